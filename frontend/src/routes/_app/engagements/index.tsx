import { Anchor, Badge, Button, Group, Modal, Paper, Select, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { useCan } from "../../../auth/me";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { clientQuery } from "../../../features/clients/queries";
import { ClientPicker } from "../../../components/ClientPicker";
import { type EngagementBody, EngagementForm } from "../../../features/engagements/EngagementForm";
import {
  ENGAGEMENT_STATUSES,
  type EngagementSearch,
  engagementKeys,
  engagementListQuery,
  PRICING_MODES,
} from "../../../features/engagements/queries";
import { date, money } from "../../../lib/format";
import { urlPaging, validateListSearch } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/engagements/")({
  validateSearch: (search: Record<string, unknown>): EngagementSearch => ({
    ...validateListSearch(search),
    client: typeof search.client === "string" && search.client ? search.client : undefined,
  }),
  component: EngagementsPage,
});

type Engagement = Schemas["EngagementOut"];
const STATUS_COLOR: Record<string, string> = { draft: "gray", active: "green", completed: "blue", cancelled: "red" };
const pricingLabel = (mode: string) => PRICING_MODES.find((p) => p.value === mode)?.label ?? mode;

function feeOf(e: Engagement): string {
  if (e.pricing_mode === "fixed") return money(e.fixed_fee, e.currency);
  if (e.pricing_mode === "hourly") return e.hourly_rate ? `${money(e.hourly_rate, e.currency)}/h` : "—";
  return money(e.retainer_amount, e.currency);
}

function EngagementsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const canWrite = useCan("engagements:write");
  const engagements = useQuery(engagementListQuery(search));
  const [editing, setEditing] = useState<Engagement | "new" | null>(null);
  const setSearch = (patch: Partial<EngagementSearch>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const onQuery = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 300);

  // The list carries client ids; their names come from the (cached) client records.
  const clientIds = [
    ...new Set([...(engagements.data?.items.map((e) => e.client_id) ?? []), ...(search.client ? [search.client] : [])]),
  ];
  const clients = useQueries({ queries: clientIds.map((id) => ({ ...clientQuery(id), staleTime: 60_000 })) });
  const clientName = (id: string) => clients.find((c) => c.data?.id === id)?.data?.name;
  const option = (id: string | null | undefined) => {
    const name = id ? clientName(id) : undefined;
    return id && name ? { value: id, label: name } : null;
  };

  const save = async (body: EngagementBody) => {
    const saved =
      editing === "new" || editing === null
        ? await unwrap(api.POST("/api/v1/engagements", { body: body as Schemas["EngagementCreate"] }))
        : await unwrap(
            api.PATCH("/api/v1/engagements/{engagement_id}", {
              params: { path: { engagement_id: editing.id } },
              body: body as Schemas["EngagementUpdate"],
            }),
          );
    await queryClient.invalidateQueries({ queryKey: engagementKeys.all });
    notifications.show({ color: "green", message: `Engagement “${saved.title}” ${editing === "new" ? "created" : "saved"}` });
    setEditing(null);
  };

  const columns: ColumnDef<Engagement>[] = [
    { id: "title", accessorKey: "title", header: "Title", enableSorting: true },
    {
      id: "client",
      header: "Client",
      cell: ({ row }) => (
        <Anchor
          size="sm"
          renderRoot={(props) => <Link {...props} to="/clients/$clientId" params={{ clientId: row.original.client_id }} />}
          onClick={(e) => e.stopPropagation()}
        >
          {clientName(row.original.client_id) ?? "Client"}
        </Anchor>
      ),
    },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (
        <Badge color={STATUS_COLOR[row.original.status]} variant="light" style={{ minWidth: "max-content" }}>
          {row.original.status}
        </Badge>
      ),
    },
    { id: "pricing", header: "Pricing", cell: ({ row }) => pricingLabel(row.original.pricing_mode) },
    { id: "fee", header: "Fee", cell: ({ row }) => feeOf(row.original) },
    { id: "lines_total", header: "Lines total", cell: ({ row }) => money(row.original.lines_total, row.original.currency) },
    { id: "start_date", accessorKey: "start_date", header: "Starts", enableSorting: true, cell: (c) => date(c.getValue<string | null>()) },
  ];
  if (canWrite) {
    columns.push({
      id: "actions",
      header: "Actions",
      cell: ({ row }) => (
        <Button
          size="compact-sm"
          variant="light"
          aria-label={`Edit ${row.original.title}`}
          onClick={(e) => {
            e.stopPropagation();
            setEditing(row.original);
          }}
        >
          Edit
        </Button>
      ),
    });
  }
  const filtered = !!(search.q || search.status || search.client);

  return (
    <>
      <PageHeader title="Engagements">
        <Can permission="engagements:write">
          <Button onClick={() => setEditing("new")}>New engagement</Button>
        </Can>
      </PageHeader>
      <Paper withBorder p="md">
        <Group mb="md">
          <TextInput
            aria-label="Search engagements"
            placeholder="Search by title"
            defaultValue={search.q ?? ""}
            onChange={(e) => onQuery(e.currentTarget.value)}
            w={260}
          />
          <Select
            aria-label="Status"
            placeholder="Any status"
            clearable
            data={ENGAGEMENT_STATUSES}
            value={search.status ?? null}
            onChange={(v) => setSearch({ status: v ?? undefined })}
            w={170}
          />
          <ClientPicker
            ariaLabel="Filter by client"
            placeholder="Any client"
            clearable
            value={search.client ?? null}
            selected={option(search.client)}
            onChange={(v) => setSearch({ client: v ?? undefined })}
            w={260}
          />
        </Group>
        <QueryState
          query={engagements}
          isEmpty={(page) => page.total === 0}
          empty={
            <EmptyState title={filtered ? "No engagement matches" : "No engagements yet"}>
              {filtered ? "Try other filters." : "Create one to start billing a client."}
            </EmptyState>
          }
        >
          {(page) => (
            <DataTable
              label="Engagements"
              columns={columns}
              rows={page.items}
              getRowId={(e) => e.id}
              total={page.total}
              {...urlPaging(search, setSearch, "-created_at")}
              onRowClick={canWrite ? (e) => setEditing(e) : undefined}
            />
          )}
        </QueryState>
      </Paper>
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === "new" ? "New engagement" : "Edit engagement"}
        size="xl"
      >
        {editing !== null ? (
          <EngagementForm
            key={editing === "new" ? "new" : editing.id}
            initial={editing === "new" ? undefined : editing}
            initialClient={editing === "new" ? option(search.client) : option(editing.client_id)}
            submitLabel={editing === "new" ? "Create engagement" : "Save engagement"}
            onSubmit={save}
            onCancel={() => setEditing(null)}
          />
        ) : null}
      </Modal>
    </>
  );
}
