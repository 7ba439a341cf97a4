import { Button, Group, Modal, Paper, Select, TextInput } from "@mantine/core";
import { useDebouncedCallback, useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { ClientPicker, searchClients, useClientNames } from "../../../components/ClientPicker";
import { InvoiceForm } from "../../../features/invoices/InvoiceForm";
import {
  clientEngagements,
  firmQuery,
  INVOICE_STATUSES,
  type Invoice,
  invoiceKeys,
  invoiceListQuery,
  validateInvoiceSearch,
} from "../../../features/invoices/queries";
import { displayStatus, InvoiceStatusBadge } from "../../../features/invoices/status";
import { date, money } from "../../../lib/format";
import { urlPaging, validateListSearch } from "../../../lib/listSearch";

export const Route = createFileRoute("/_app/invoices/")({
  validateSearch: (search: Record<string, unknown>) => validateInvoiceSearch(search, validateListSearch(search)),
  component: InvoicesPage,
});

function InvoicesPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const invoices = useQuery(invoiceListQuery(search));
  const firm = useQuery(firmQuery);
  const [creating, { open, close }] = useDisclosure(false);
  const names = useClientNames(invoices.data?.items.map((i) => i.client_id) ?? []);
  const setSearch = (patch: Partial<typeof search>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const onQuery = useDebouncedCallback((q: string) => setSearch({ q: q || undefined }), 300);

  const columns = useMemo<ColumnDef<Invoice>[]>(
    () => [
      {
        id: "number",
        accessorKey: "number",
        header: "Number",
        enableSorting: true,
        cell: ({ row }) => (
          <Link
            to="/invoices/$invoiceId"
            params={{ invoiceId: row.original.id }}
            onClick={(e) => e.stopPropagation()}
            style={{ color: "var(--mantine-color-anchor)" }}
          >
            {row.original.number}
          </Link>
        ),
      },
      {
        id: "client",
        header: "Client",
        enableSorting: false,
        cell: ({ row }) => names[row.original.client_id] ?? "…",
      },
      { id: "issue_date", accessorKey: "issue_date", header: "Issue date", enableSorting: true, cell: (c) => date(c.getValue<string>()) },
      { id: "due_date", accessorKey: "due_date", header: "Due date", enableSorting: true, cell: (c) => date(c.getValue<string>()) },
      {
        id: "total",
        accessorKey: "total",
        header: "Total",
        enableSorting: true,
        cell: ({ row }) => money(row.original.total, row.original.currency),
      },
      {
        id: "balance",
        header: "Balance",
        enableSorting: false,
        cell: ({ row }) => money(row.original.balance_due, row.original.currency),
      },
      {
        id: "status",
        header: "Status",
        enableSorting: false,
        cell: ({ row }) => <InvoiceStatusBadge status={displayStatus(row.original)} />,
      },
    ],
    [names],
  );

  const create = async (body: Schemas["InvoiceCreate"]) => {
    const invoice = await unwrap(api.POST("/api/v1/invoices", { body }));
    await queryClient.invalidateQueries({ queryKey: invoiceKeys.all });
    notifications.show({ color: "green", message: `Invoice ${invoice.number} created` });
    close();
    void navigate({ to: "/invoices/$invoiceId", params: { invoiceId: invoice.id } });
  };

  const filtered = !!(search.q || search.status || search.client);
  return (
    <>
      <PageHeader title="Invoices">
        <Can permission="invoices:write">
          <Button onClick={open}>New invoice</Button>
        </Can>
      </PageHeader>
      <Paper withBorder p="md">
        <Group mb="md" align="flex-end">
          <TextInput
            aria-label="Search invoices"
            placeholder="Search by number"
            defaultValue={search.q ?? ""}
            onChange={(e) => onQuery(e.currentTarget.value)}
            w={240}
          />
          <Select
            aria-label="Status"
            placeholder="Any status"
            clearable
            data={INVOICE_STATUSES}
            value={search.status ?? null}
            onChange={(v) => setSearch({ status: v ?? undefined })}
            w={180}
          />
          <ClientPicker
            ariaLabel="Filter by client"
            placeholder="Any client"
            clearable
            value={search.client ?? null}
            onChange={(v) => setSearch({ client: v ?? undefined })}
            w={240}
          />
        </Group>
        <QueryState
          query={invoices}
          isEmpty={(page) => page.total === 0}
          empty={
            <EmptyState title={filtered ? "No invoice matches" : "No invoices yet"}>
              {filtered ? "Try another search or filter." : "Create one, or connect your accounting system."}
            </EmptyState>
          }
        >
          {(page) => (
            <DataTable
              label="Invoices"
              columns={columns}
              rows={page.items}
              getRowId={(i) => i.id}
              total={page.total}
              {...urlPaging(search, setSearch, "-issue_date")}
              onRowClick={(i) => void navigate({ to: "/invoices/$invoiceId", params: { invoiceId: i.id } })}
            />
          )}
        </QueryState>
      </Paper>
      <Modal opened={creating} onClose={close} title="New invoice" size="xl">
        <InvoiceForm
          currency={firm.data?.currency ?? "USD"}
          submitLabel="Create invoice"
          loadClients={searchClients}
          loadEngagements={clientEngagements}
          onSubmit={create}
          onCancel={close}
        />
      </Modal>
    </>
  );
}
