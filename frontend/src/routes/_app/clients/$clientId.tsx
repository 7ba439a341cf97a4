import { Badge, Button, Group, Modal, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import { type ReactNode, useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { Can } from "../../../components/Can";
import { PageHeader } from "../../../components/PageHeader";
import { QueryState } from "../../../components/QueryState";
import { ClientForm } from "../../../features/clients/ClientForm";
import { ClientTabs } from "../../../features/clients/ClientTabs";
import { LinkedRecords } from "../../../features/clients/LinkedRecords";
import { clientKeys, clientQuery } from "../../../features/clients/queries";
import { CLIENT_TABS, type ClientTab } from "../../../features/clients/tabs";
import { dateTime } from "../../../lib/format";
import { CONFLICT_MESSAGE, isEditConflict } from "../../../lib/forms";

export const Route = createFileRoute("/_app/clients/$clientId")({
  validateSearch: (search: Record<string, unknown>): { tab?: ClientTab } => ({
    tab: CLIENT_TABS.includes(search.tab as ClientTab) && search.tab !== "contacts" ? (search.tab as ClientTab) : undefined,
  }),
  component: ClientPage,
});

type Client = Schemas["ClientOut"];
const STATUS_COLOR: Record<string, string> = { active: "green", inactive: "gray", terminated: "red" };

function ClientPage() {
  const { clientId } = Route.useParams();
  const client = useQuery(clientQuery(clientId));
  return <QueryState query={client}>{(c) => <ClientDetail client={c} />}</QueryState>;
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children || "—"}
      </Text>
    </div>
  );
}

function ClientDetail({ client }: { client: Client }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate({ from: Route.fullPath });
  const { tab } = Route.useSearch();
  const [editing, edit] = useDisclosure(false);
  const [deleting, del] = useDisclosure(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (body: Schemas["ClientCreate"]) => {
    const updated = await unwrap(
      api.PATCH("/api/v1/clients/{client_id}", {
        params: { path: { client_id: client.id } },
        body: { ...body, version: client.version },
      }),
    );
    queryClient.setQueryData(clientKeys.detail(client.id), updated);
    await queryClient.invalidateQueries({ queryKey: clientKeys.all });
    notifications.show({ color: "green", message: `Client “${updated.name}” saved` });
    edit.close();
  };

  const remove = async () => {
    setBusy(true);
    setDeleteError(null);
    try {
      await unwrap(
        api.DELETE("/api/v1/clients/{client_id}", {
          params: { path: { client_id: client.id }, header: { "if-match": `"${client.version}"` } },
        }),
      );
      queryClient.removeQueries({ queryKey: clientKeys.detail(client.id) });
      await queryClient.invalidateQueries({ queryKey: clientKeys.all });
      notifications.show({ color: "green", message: `Client “${client.name}” deleted` });
      void navigate({ to: "/clients" });
    } catch (error) {
      setDeleteError(isEditConflict(error) ? CONFLICT_MESSAGE : error instanceof Error ? error.message : String(error));
      setBusy(false);
    }
  };

  const address = [client.address_line1, client.address_line2, client.city, client.region, client.postal_code, client.country]
    .filter(Boolean)
    .join(", ");

  return (
    <>
      <PageHeader title={client.name}>
        <Can permission="clients:write">
          <Button onClick={edit.open}>Edit</Button>
          <Button
            color="red"
            variant="light"
            onClick={() => {
              setDeleteError(null);
              del.open();
            }}
          >
            Delete
          </Button>
        </Can>
      </PageHeader>
      <Stack>
        <Paper withBorder p="md">
          <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
            <Field label="Status">
              <Badge color={STATUS_COLOR[client.status]} variant="light">
                {client.status}
              </Badge>
            </Field>
            <Field label="Email">{client.email}</Field>
            <Field label="Phone">{client.phone}</Field>
            <Field label="Industry">{client.industry}</Field>
            <Field label="Address">{address}</Field>
            <Field label="Updated">{dateTime(client.updated_at)}</Field>
          </SimpleGrid>
          {client.notes ? (
            <Stack gap={2} mt="md">
              <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                Notes
              </Text>
              <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                {client.notes}
              </Text>
            </Stack>
          ) : null}
        </Paper>
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Linked records
          </Title>
          <LinkedRecords refs={client.external_refs} />
        </Paper>
        <Paper withBorder p="md">
          <ClientTabs
            clientId={client.id}
            tab={tab ?? "contacts"}
            onTabChange={(t) => void navigate({ search: { tab: t === "contacts" ? undefined : t }, replace: true })}
          />
        </Paper>
      </Stack>
      <Modal opened={editing} onClose={edit.close} title="Edit client" size="lg">
        <ClientForm initial={client} submitLabel="Save changes" onSubmit={save} onCancel={edit.close} />
      </Modal>
      <Modal opened={deleting} onClose={del.close} title="Delete client?">
        <Stack>
          <Text>
            Delete <b>{client.name}</b> and hide it from every list? Its invoices and history are kept.
          </Text>
          {deleteError ? (
            <Text c="red" role="alert" size="sm">
              {deleteError}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={del.close}>
              Cancel
            </Button>
            <Button color="red" loading={busy} onClick={() => void remove()}>
              Delete client
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
