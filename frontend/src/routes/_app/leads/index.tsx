import { Badge, Button, Group, Modal, Paper, ScrollArea, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedCallback, useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { useState } from "react";

import { api, ApiError, type Schemas, unwrap } from "../../../api/client";
import { useCan } from "../../../auth/me";
import { Can } from "../../../components/Can";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { ConvertLeadForm } from "../../../features/leads/ConvertLeadForm";
import { LeadCard } from "../../../features/leads/LeadCard";
import { LEAD_STATUSES, LeadForm } from "../../../features/leads/LeadForm";
import { type Lead, type LeadStatus, leadColumnQuery, leadKeys } from "../../../features/leads/queries";
import { validateListSearch } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/leads/")({
  validateSearch: validateListSearch,
  component: LeadsPage,
});

function LeadsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const canWrite = useCan("leads:write");
  const [creating, { open, close }] = useDisclosure(false);
  const [converting, setConverting] = useState<Lead | null>(null);
  const [moving, setMoving] = useState<string | null>(null);
  const onQuery = useDebouncedCallback(
    (q: string) => void navigate({ search: (prev) => ({ ...prev, q: q || undefined }) }),
    300,
  );

  const create = async (body: Schemas["LeadCreate"]) => {
    const lead = await unwrap(api.POST("/api/v1/leads", { body }));
    await queryClient.invalidateQueries({ queryKey: leadKeys.all });
    notifications.show({ color: "green", message: `Lead “${lead.name}” added` });
    close();
  };

  const move = async (lead: Lead, status: string) => {
    setMoving(lead.id);
    try {
      await unwrap(
        api.PATCH("/api/v1/leads/{lead_id}", {
          params: { path: { lead_id: lead.id } },
          body: { status: status as "new", version: lead.version },
        }),
      );
      const label = LEAD_STATUSES.find((s) => s.value === status)?.label ?? status;
      notifications.show({ color: "green", message: `${lead.name} moved to ${label}` });
    } catch (error) {
      notifications.show({
        color: "red",
        title: `Could not move ${lead.name}`,
        message:
          error instanceof ApiError && error.status === 409
            ? "Someone changed this lead meanwhile; the board now shows the latest."
            : error instanceof Error
              ? error.message
              : String(error),
      });
    } finally {
      setMoving(null);
      await queryClient.invalidateQueries({ queryKey: leadKeys.all });
    }
  };

  const convert = async (body: Schemas["LeadConvert"]) => {
    const result = await unwrap(
      api.POST("/api/v1/leads/{lead_id}/convert", { params: { path: { lead_id: converting!.id } }, body }),
    );
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: leadKeys.all }),
      queryClient.invalidateQueries({ queryKey: ["clients"] }),
    ]);
    return result;
  };

  return (
    <>
      <PageHeader title="Leads">
        <Can permission="leads:write">
          <Button onClick={open}>New lead</Button>
        </Can>
      </PageHeader>
      <Group mb="md">
        <TextInput
          aria-label="Search leads"
          placeholder="Search name or company"
          defaultValue={search.q ?? ""}
          onChange={(e) => onQuery(e.currentTarget.value)}
          w={280}
        />
      </Group>
      <ScrollArea type="auto" offsetScrollbars>
        <SimpleGrid cols={LEAD_STATUSES.length} miw={LEAD_STATUSES.length * 200} spacing="sm">
          {LEAD_STATUSES.map((s) => (
            <LeadColumn
              key={s.value}
              status={s.value}
              label={s.label}
              q={search.q}
              canWrite={canWrite}
              moving={moving}
              onMove={(lead, status) => void move(lead, status)}
              onConvert={setConverting}
            />
          ))}
        </SimpleGrid>
      </ScrollArea>
      <Modal opened={creating} onClose={close} title="New lead" size="lg">
        <LeadForm submitLabel="Create lead" onSubmit={create} onCancel={close} />
      </Modal>
      <Modal opened={!!converting} onClose={() => setConverting(null)} title="Convert to client">
        {converting ? (
          <ConvertLeadForm lead={converting} onSubmit={convert} onClose={() => setConverting(null)} />
        ) : null}
      </Modal>
    </>
  );
}

function LeadColumn({
  status,
  label,
  q,
  canWrite,
  moving,
  onMove,
  onConvert,
}: {
  status: LeadStatus;
  label: string;
  q: string | undefined;
  canWrite: boolean;
  moving: string | null;
  onMove: (lead: Lead, status: string) => void;
  onConvert: (lead: Lead) => void;
}) {
  const leads = useQuery(leadColumnQuery(status, q));
  const headingId = `lead-column-${status}`;
  return (
    <Paper withBorder p="sm" bg="var(--mantine-color-gray-0)" component="section" aria-labelledby={headingId}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h5" id={headingId}>
          {label}
        </Title>
        {leads.data ? (
          <Badge variant="default" aria-label={`${leads.data.total} leads`}>
            {leads.data.total}
          </Badge>
        ) : null}
      </Group>
      <QueryState
        query={leads}
        isEmpty={(page) => page.total === 0}
        empty={<EmptyState title={q ? "No match" : "None"} />}
      >
        {(page) => (
          <Stack gap="xs">
            {page.items.map((lead) => (
              <LeadCard
                key={lead.id}
                lead={lead}
                canWrite={canWrite}
                moving={moving === lead.id}
                onMove={onMove}
                onConvert={onConvert}
              />
            ))}
            {page.total > page.items.length ? (
              <Text size="xs" c="dimmed">
                Showing the {page.items.length} highest-scored of {page.total}; search to narrow.
              </Text>
            ) : null}
          </Stack>
        )}
      </QueryState>
    </Paper>
  );
}
