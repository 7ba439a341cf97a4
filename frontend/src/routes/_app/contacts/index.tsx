import { Anchor, Group, Paper, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";

import type { Schemas } from "../../../api/client";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { firmContactsQuery } from "../../../features/clients/queries";
import { urlPaging, validateListSearch } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/contacts/")({
  validateSearch: validateListSearch,
  component: ContactsPage,
});

type Contact = Schemas["ContactListItem"];
const contactName = (c: Contact) => [c.first_name, c.last_name].filter(Boolean).join(" ");

const columns: ColumnDef<Contact>[] = [
  { id: "name", header: "Name", enableSorting: true, cell: ({ row }) => contactName(row.original) },
  { id: "title", accessorKey: "title", header: "Title", cell: (c) => c.getValue<string | null>() ?? "—" },
  { id: "email", accessorKey: "email", header: "Email", cell: (c) => c.getValue<string | null>() ?? "—" },
  { id: "phone", accessorKey: "phone", header: "Phone", cell: (c) => c.getValue<string | null>() ?? "—" },
  {
    id: "client",
    header: "Client",
    cell: ({ row }) => (
      <Anchor
        renderRoot={(props) => <Link {...props} to="/clients/$clientId" params={{ clientId: row.original.client_id }} />}
        onClick={(e) => e.stopPropagation()}
      >
        {row.original.client_name}
      </Anchor>
    ),
  },
];

function ContactsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const contacts = useQuery(firmContactsQuery(search));
  const setSearch = (patch: Partial<typeof search>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const onQuery = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 300);

  return (
    <>
      <PageHeader title="Contacts" />
      <Paper withBorder p="md">
        <Group mb="md">
          <TextInput
            aria-label="Search contacts"
            placeholder="Search by name or email"
            defaultValue={search.q ?? ""}
            onChange={(e) => onQuery(e.currentTarget.value)}
            w={280}
          />
        </Group>
        <QueryState
          query={contacts}
          isEmpty={(page) => page.total === 0}
          empty={
            <EmptyState title={search.q ? "No contact matches" : "No contacts yet"}>
              {search.q ? "Try another search." : "Add contacts from a client's page, or connect your CRM."}
            </EmptyState>
          }
        >
          {(page) => (
            <DataTable
              label="Contacts"
              columns={columns}
              rows={page.items}
              getRowId={(c) => c.id}
              total={page.total}
              {...urlPaging(search, setSearch, "name")}
              onRowClick={(c) => void navigate({ to: "/clients/$clientId", params: { clientId: c.client_id } })}
            />
          )}
        </QueryState>
      </Paper>
    </>
  );
}
