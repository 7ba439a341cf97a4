import { Button, Group, Modal, Paper, Select, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback, useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";

import { api, type Schemas, unwrap } from "../../../api/client";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { CLIENT_STATUSES, ClientForm } from "../../../features/clients/ClientForm";
import { clientKeys, clientListQuery } from "../../../features/clients/queries";
import { date } from "../../../lib/format";
import { urlPaging, validateListSearch } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/clients/")({
  validateSearch: validateListSearch,
  component: ClientsPage,
});

type Client = Schemas["ClientOut"];

const STATUS_COLOR: Record<string, string> = { active: "green.8", inactive: "gray.7", terminated: "red.8" };

const columns: ColumnDef<Client>[] = [
  { id: "name", accessorKey: "name", header: "Name", enableSorting: true },
  { id: "email", accessorKey: "email", header: "Email", enableSorting: false },
  { id: "industry", accessorKey: "industry", header: "Industry", enableSorting: false },
  {
    id: "status",
    header: "Status",
    enableSorting: false,
    cell: ({ row }) => (
      <Text size="sm" c={STATUS_COLOR[row.original.status]} fw={500} tt="capitalize">
        {row.original.status}
      </Text>
    ),
  },
  {
    id: "synced",
    header: "Linked to",
    enableSorting: false,
    cell: ({ row }) => (
      <Text size="sm" c="dimmed">
        {[...new Set(row.original.external_refs.map((ref) => ref.provider))].join(", ")}
      </Text>
    ),
  },
  { id: "created_at", accessorKey: "created_at", header: "Added", enableSorting: true, cell: (c) => date(c.getValue<string>()) },
];

function ClientsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const clients = useQuery(clientListQuery(search));
  const [creating, { open, close }] = useDisclosure(false);
  const setSearch = (patch: Partial<typeof search>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const onQuery = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 300);

  const create = async (body: Schemas["ClientCreate"]) => {
    const client = await unwrap(api.POST("/api/v1/clients", { body }));
    await queryClient.invalidateQueries({ queryKey: clientKeys.all });
    notifications.show({ color: "green", message: `Client “${client.name}” added` });
    close();
    void navigate({ to: "/clients/$clientId", params: { clientId: client.id } });
  };

  return (
    <>
      <PageHeader title="Clients">
        <Can permission="clients:write">
          <Button onClick={open}>New client</Button>
        </Can>
      </PageHeader>
      <Paper withBorder p="md">
        <Group mb="md">
          <TextInput
            aria-label="Search clients"
            placeholder="Search by name"
            defaultValue={search.q ?? ""}
            onChange={(e) => onQuery(e.currentTarget.value)}
            w={280}
          />
          <Select
            aria-label="Status"
            placeholder="Any status"
            clearable
            data={CLIENT_STATUSES}
            value={search.status ?? null}
            onChange={(v) => setSearch({ status: v ?? undefined })}
            w={180}
          />
        </Group>
        <QueryState
          query={clients}
          isEmpty={(page) => page.total === 0}
          empty={
            <EmptyState title={search.q || search.status ? "No client matches" : "No clients yet"}>
              {search.q || search.status ? "Try another search." : "Add one, or connect your accounting system."}
            </EmptyState>
          }
        >
          {(page) => (
            <DataTable
              label="Clients"
              columns={columns}
              rows={page.items}
              getRowId={(c) => c.id}
              total={page.total}
              {...urlPaging(search, setSearch, "name")}
              onRowClick={(c) => void navigate({ to: "/clients/$clientId", params: { clientId: c.id } })}
            />
          )}
        </QueryState>
      </Paper>
      <Modal opened={creating} onClose={close} title="New client" size="lg">
        <ClientForm submitLabel="Create client" onSubmit={create} onCancel={close} />
      </Modal>
    </>
  );
}
