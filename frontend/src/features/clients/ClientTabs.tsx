import { Anchor, Badge, Button, Group, Modal, Stack, Tabs, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { type ReactNode, useState } from "react";

import { api, type Schemas, unwrap } from "../../api/client";
import { useCan } from "../../auth/me";
import { Can } from "../../components/Can";
import { DataTable } from "../../components/DataTable";
import { EmptyState, QueryState } from "../../components/QueryState";
import { date, dateTime, money } from "../../lib/format";
import { CONFLICT_MESSAGE, isEditConflict } from "../../lib/forms";
import { type ContactBody, ContactForm } from "./ContactForm";
import { clientKeys, contactKeys } from "./queries";
import type { ClientTab } from "./tabs";

const TAB_PAGE_SIZE = 10;

interface PageOf<T> {
  items: T[];
  total: number;
}

type Fetch<T> = (query: { sort: string; limit: number; offset: number }) => Promise<PageOf<T>>;

/** One paged, sortable list of a client's records with its own loading, empty and error states. */
function ClientList<T>({
  label,
  queryKey,
  fetch,
  columns,
  defaultSort,
  empty,
  onRowClick,
}: {
  label: string;
  queryKey: readonly unknown[];
  fetch: Fetch<T>;
  columns: ColumnDef<T, any>[];
  defaultSort: string;
  empty: string;
  onRowClick?: (row: T) => void;
}) {
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState(defaultSort);
  const query = useQuery({
    queryKey: [...queryKey, { page, sort }],
    queryFn: () => fetch({ sort, limit: TAB_PAGE_SIZE, offset: (page - 1) * TAB_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  return (
    <QueryState query={query} isEmpty={(p) => p.total === 0} empty={<EmptyState title={empty} />}>
      {(data) => (
        <DataTable
          label={label}
          columns={columns}
          rows={data.items}
          getRowId={(row) => (row as { id: string }).id}
          total={data.total}
          page={page}
          pageSize={TAB_PAGE_SIZE}
          onPageChange={setPage}
          sort={sort}
          onSortChange={(s) => {
            setSort(s ?? defaultSort);
            setPage(1);
          }}
          onRowClick={onRowClick}
        />
      )}
    </QueryState>
  );
}

type Contact = Schemas["ContactOut"];
const contactName = (c: Contact) => [c.first_name, c.last_name].filter(Boolean).join(" ");

function ContactsTab({ clientId }: { clientId: string }) {
  const queryClient = useQueryClient();
  const canWrite = useCan("clients:write");
  const [editing, setEditing] = useState<Contact | "new" | null>(null);
  const [deleting, setDeleting] = useState<Contact | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: contactKeys.all }),
      queryClient.invalidateQueries({ queryKey: clientKeys.detail(clientId) }),
    ]);

  const save = async (body: ContactBody) => {
    if (editing === "new") {
      await unwrap(api.POST("/api/v1/clients/{client_id}/contacts", { params: { path: { client_id: clientId } }, body }));
    } else if (editing) {
      await unwrap(
        api.PATCH("/api/v1/clients/{client_id}/contacts/{contact_id}", {
          params: { path: { client_id: clientId, contact_id: editing.id } },
          body,
        }),
      );
    }
    await refresh();
    notifications.show({ color: "green", message: editing === "new" ? "Contact added" : "Contact saved" });
    setEditing(null);
  };

  const remove = async () => {
    if (!deleting) return;
    setBusy(true);
    setDeleteError(null);
    try {
      await unwrap(
        api.DELETE("/api/v1/clients/{client_id}/contacts/{contact_id}", {
          params: {
            path: { client_id: clientId, contact_id: deleting.id },
            header: { "if-match": `"${deleting.version}"` },
          },
        }),
      );
      await refresh();
      notifications.show({ color: "green", message: `Contact “${contactName(deleting)}” deleted` });
      setDeleting(null);
    } catch (error) {
      setDeleteError(isEditConflict(error) ? CONFLICT_MESSAGE : error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const columns: ColumnDef<Contact>[] = [
    { id: "name", header: "Name", enableSorting: true, cell: ({ row }) => contactName(row.original) },
    { id: "title", accessorKey: "title", header: "Title", enableSorting: false, cell: (c) => c.getValue() ?? "—" },
    { id: "email", accessorKey: "email", header: "Email", enableSorting: false, cell: (c) => c.getValue() ?? "—" },
    { id: "phone", accessorKey: "phone", header: "Phone", enableSorting: false, cell: (c) => c.getValue() ?? "—" },
  ];
  if (canWrite) {
    columns.push({
      id: "actions",
      header: "Actions",
      enableSorting: false,
      cell: ({ row }) => (
        <Group gap="xs" wrap="nowrap">
          <Button size="compact-sm" variant="light" aria-label={`Edit ${contactName(row.original)}`} onClick={() => setEditing(row.original)}>
            Edit
          </Button>
          <Button
            size="compact-sm"
            variant="light"
            color="red"
            aria-label={`Delete ${contactName(row.original)}`}
            onClick={() => {
              setDeleteError(null);
              setDeleting(row.original);
            }}
          >
            Delete
          </Button>
        </Group>
      ),
    });
  }

  return (
    <Stack>
      <Can permission="clients:write">
        <Group justify="flex-end">
          <Button size="sm" onClick={() => setEditing("new")}>
            Add contact
          </Button>
        </Group>
      </Can>
      <ClientList<Contact>
        label="Contacts"
        queryKey={contactKeys.ofClient(clientId)}
        fetch={(query) =>
          unwrap(
            api.GET("/api/v1/clients/{client_id}/contacts", {
              params: { path: { client_id: clientId }, query: { ...query, sort: query.sort as "name" } },
            }),
          )
        }
        columns={columns}
        defaultSort="name"
        empty="No contacts yet"
      />
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "Add contact" : "Edit contact"} size="lg">
        {editing !== null ? (
          <ContactForm
            key={editing === "new" ? "new" : editing.id}
            initial={editing === "new" ? undefined : editing}
            submitLabel={editing === "new" ? "Add contact" : "Save contact"}
            onSubmit={save}
            onCancel={() => setEditing(null)}
          />
        ) : null}
      </Modal>
      <Modal opened={deleting !== null} onClose={() => setDeleting(null)} title="Delete contact?">
        <Stack>
          <Text>
            Delete <b>{deleting ? contactName(deleting) : ""}</b>? This cannot be undone here.
          </Text>
          {deleteError ? (
            <Text c="red" role="alert" size="sm">
              {deleteError}
            </Text>
          ) : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)}>
              Cancel
            </Button>
            <Button color="red" loading={busy} onClick={() => void remove()}>
              Delete contact
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

type Engagement = Schemas["EngagementOut"];
const engagementColumns: ColumnDef<Engagement>[] = [
  { id: "title", accessorKey: "title", header: "Title", enableSorting: true },
  { id: "status", header: "Status", cell: ({ row }) => <Badge variant="light">{row.original.status}</Badge> },
  { id: "pricing_mode", accessorKey: "pricing_mode", header: "Pricing" },
  { id: "start_date", accessorKey: "start_date", header: "Starts", enableSorting: true, cell: (c) => date(c.getValue<string | null>()) },
  { id: "lines_total", header: "Total", cell: ({ row }) => money(row.original.lines_total, row.original.currency) },
];

type Invoice = Schemas["InvoiceOut"];
const invoiceColumns: ColumnDef<Invoice>[] = [
  {
    id: "number",
    header: "Number",
    enableSorting: true,
    cell: ({ row }) => (
      <Anchor
        renderRoot={(props) => <Link {...props} to="/invoices/$invoiceId" params={{ invoiceId: row.original.id }} />}
        onClick={(e) => e.stopPropagation()}
      >
        {row.original.number}
      </Anchor>
    ),
  },
  { id: "status", header: "Status", cell: ({ row }) => <Badge variant="light">{row.original.status}</Badge> },
  { id: "issue_date", accessorKey: "issue_date", header: "Issued", enableSorting: true, cell: (c) => date(c.getValue<string>()) },
  { id: "due_date", accessorKey: "due_date", header: "Due", enableSorting: true, cell: (c) => date(c.getValue<string>()) },
  { id: "total", header: "Total", enableSorting: true, cell: ({ row }) => money(row.original.total, row.original.currency) },
  { id: "balance_due", header: "Balance", cell: ({ row }) => money(row.original.balance_due, row.original.currency) },
];

type Document = Schemas["DocumentOut"];
const documentColumns: ColumnDef<Document>[] = [
  { id: "name", accessorKey: "name", header: "Name", enableSorting: true },
  { id: "content_type", accessorKey: "content_type", header: "Type" },
  { id: "updated_at", accessorKey: "updated_at", header: "Updated", enableSorting: true, cell: (c) => dateTime(c.getValue<string>()) },
];

type CalendarEvent = Schemas["EventOut"];
const eventColumns: ColumnDef<CalendarEvent>[] = [
  { id: "title", accessorKey: "title", header: "Title" },
  { id: "starts_at", accessorKey: "starts_at", header: "Starts", enableSorting: true, cell: (c) => dateTime(c.getValue<string>()) },
  { id: "ends_at", accessorKey: "ends_at", header: "Ends", cell: (c) => dateTime(c.getValue<string>()) },
  { id: "location", accessorKey: "location", header: "Location", cell: (c) => c.getValue<string | null>() ?? "—" },
];


/** The client's related records, one tab each (arrow keys move between tabs); tabs the role may not read are left out. */
export function ClientTabs({
  clientId,
  tab,
  onTabChange,
}: {
  clientId: string;
  tab: ClientTab;
  onTabChange: (tab: ClientTab) => void;
}) {
  const navigate = useNavigate({ from: "/clients/$clientId" });
  const can = {
    engagements: useCan("engagements:read"),
    invoices: useCan("invoices:read"),
    documents: useCan("documents:read"),
    events: useCan("calendar:read"),
  };
  const tabs: { value: ClientTab; label: string; panel: ReactNode }[] = [
    { value: "contacts", label: "Contacts", panel: <ContactsTab clientId={clientId} /> },
  ];
  if (can.engagements)
    tabs.push({
      value: "engagements",
      label: "Engagements",
      panel: (
        <ClientList<Engagement>
          label="Engagements"
          queryKey={["engagements", "client", clientId]}
          fetch={(query) =>
            unwrap(api.GET("/api/v1/engagements", { params: { query: { ...query, client_id: clientId, sort: query.sort as "title" } } }))
          }
          columns={engagementColumns}
          defaultSort="-start_date"
          empty="No engagements for this client"
        />
      ),
    });
  if (can.invoices)
    tabs.push({
      value: "invoices",
      label: "Invoices",
      panel: (
        <ClientList<Invoice>
          label="Invoices"
          queryKey={["invoices", "client", clientId]}
          fetch={(query) =>
            unwrap(api.GET("/api/v1/invoices", { params: { query: { ...query, client_id: clientId, sort: query.sort as "number" } } }))
          }
          columns={invoiceColumns}
          defaultSort="-issue_date"
          empty="No invoices for this client"
          onRowClick={(inv) => void navigate({ to: "/invoices/$invoiceId", params: { invoiceId: inv.id } })}
        />
      ),
    });
  if (can.documents)
    tabs.push({
      value: "documents",
      label: "Documents",
      panel: (
        <ClientList<Document>
          label="Documents"
          queryKey={["documents", "client", clientId]}
          fetch={(query) =>
            unwrap(api.GET("/api/v1/documents", { params: { query: { ...query, client_id: clientId, sort: query.sort as "name" } } }))
          }
          columns={documentColumns}
          defaultSort="name"
          empty="No documents for this client"
        />
      ),
    });
  if (can.events)
    tabs.push({
      value: "events",
      label: "Events",
      panel: (
        <ClientList<CalendarEvent>
          label="Events"
          queryKey={["calendar", "client", clientId]}
          fetch={(query) =>
            unwrap(
              api.GET("/api/v1/calendar/events", { params: { query: { ...query, client_id: clientId, sort: query.sort as "starts_at" } } }),
            )
          }
          columns={eventColumns}
          defaultSort="-starts_at"
          empty="No events with this client"
        />
      ),
    });
  const active = tabs.some((t) => t.value === tab) ? tab : "contacts";

  return (
    <Tabs value={active} onChange={(v) => v && onTabChange(v as ClientTab)} keepMounted={false}>
      <Tabs.List aria-label="Client records" mb="md">
        {tabs.map((t) => (
          <Tabs.Tab key={t.value} value={t.value}>
            {t.label}
          </Tabs.Tab>
        ))}
      </Tabs.List>
      {tabs.map((t) => (
        <Tabs.Panel key={t.value} value={t.value}>
          {t.panel}
        </Tabs.Panel>
      ))}
    </Tabs>
  );
}
