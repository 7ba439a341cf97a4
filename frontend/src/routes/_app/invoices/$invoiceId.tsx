import { Alert, Anchor, Button, Grid, Group, Modal, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { useCan } from "../../../auth/me";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { clientQuery } from "../../../features/clients/queries";
import { searchClients } from "../../../components/ClientPicker";
import { InvoiceForm } from "../../../features/invoices/InvoiceForm";
import {
  clientEngagements,
  ifMatch,
  type Invoice,
  invoiceAllocationsQuery,
  invoiceKeys,
  invoiceQuery,
} from "../../../features/invoices/queries";
import { payInvoice } from "../../../features/invoices/payments";
import { type PaymentBody, RecordPaymentForm } from "../../../features/invoices/RecordPaymentForm";
import { displayStatus, InvoiceStatusBadge } from "../../../features/invoices/status";
import { compareDecimal } from "../../../features/invoices/totals";
import { date, dateTime, money } from "../../../lib/format";

export const Route = createFileRoute("/_app/invoices/$invoiceId")({
  component: InvoicePage,
});

function InvoicePage() {
  const { invoiceId } = Route.useParams();
  const invoice = useQuery(invoiceQuery(invoiceId));
  return <QueryState query={invoice}>{(inv) => <InvoiceDetail invoice={inv} />}</QueryState>;
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function InvoiceDetail({ invoice }: { invoice: Invoice }) {
  const queryClient = useQueryClient();
  const canWrite = useCan("invoices:write");
  const client = useQuery(clientQuery(invoice.client_id));
  const allocations = useQuery(invoiceAllocationsQuery(invoice.id));
  const [editing, edit] = useDisclosure(false);
  const [voiding, voidDialog] = useDisclosure(false);
  const [paying, payDialog] = useDisclosure(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<"send" | "void" | null>(null);

  const cur = invoice.currency;
  const status = displayStatus(invoice);
  const isDraft = invoice.status === "draft";
  const isVoid = invoice.status === "void";
  const owing = compareDecimal(invoice.balance_due, "0") === 1;
  // The API voids draft, sent and overdue invoices with nothing paid (allocations must be removed first).
  const voidable =
    ["draft", "sent", "overdue"].includes(invoice.status) && compareDecimal(invoice.amount_paid, "0") !== 1;

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: invoiceKeys.detail(invoice.id) }),
      queryClient.invalidateQueries({ queryKey: invoiceKeys.allocations(invoice.id) }),
      queryClient.invalidateQueries({ queryKey: ["invoices", "list"] }),
    ]);

  const save = async (body: Schemas["InvoiceCreate"]) => {
    await unwrap(
      api.PATCH("/api/v1/invoices/{invoice_id}", {
        params: { path: { invoice_id: invoice.id } },
        body: { ...body, version: invoice.version },
      }),
    );
    await refresh();
    notifications.show({ color: "green", message: "Invoice saved" });
    edit.close();
  };

  const act = async (action: "send" | "void") => {
    setActionError(null);
    setBusy(action);
    try {
      const path = action === "send" ? "/api/v1/invoices/{invoice_id}/send" : "/api/v1/invoices/{invoice_id}/void";
      await unwrap(
        api.POST(path, {
          params: { path: { invoice_id: invoice.id }, header: { "if-match": ifMatch(invoice.version) } },
        }),
      );
      notifications.show({ color: "green", message: action === "send" ? "Invoice sent" : "Invoice voided" });
      voidDialog.close();
    } catch (error) {
      setActionError(error instanceof Error ? error.message : String(error));
      voidDialog.close();
    } finally {
      setBusy(null);
      await refresh();
    }
  };

  // Two calls (the API has no single "pay this invoice" call): record the payment, then allocate it here.
  // If the allocation fails the payment exists unallocated; say so, and show what is stored.
  const recordPayment = async (body: PaymentBody) => {
    try {
      const outcome = await payInvoice(invoice, body);
      payDialog.close();
      if (outcome.kind === "allocated") {
        notifications.show({ color: "green", message: `Payment of ${money(body.amount, cur)} recorded` });
      } else {
        const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
        setActionError(
          `The payment of ${money(body.amount, cur)} was recorded but could not be applied to this invoice ` +
            `(${reason}). It is on the client's account, unallocated.`,
        );
      }
    } finally {
      await refresh();
    }
  };

  const title = isDraft && !invoice.number ? "Draft invoice" : `Invoice ${invoice.number}`;

  return (
    <>
      <PageHeader title={title}>
        {canWrite && isDraft ? (
          <Button variant="default" onClick={edit.open}>
            Edit
          </Button>
        ) : null}
        {canWrite && isDraft ? (
          <Button onClick={() => void act("send")} loading={busy === "send"}>
            Send
          </Button>
        ) : null}
        {canWrite && !isVoid && !isDraft && owing ? <Button onClick={payDialog.open}>Record payment</Button> : null}
        {canWrite && voidable ? (
          <Button color="red" variant="light" onClick={voidDialog.open}>
            Void
          </Button>
        ) : null}
      </PageHeader>
      {actionError ? (
        <Alert color="red" role="alert" mb="md" withCloseButton onClose={() => setActionError(null)} closeButtonLabel="Dismiss">
          {actionError}
        </Alert>
      ) : null}
      <Grid>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Paper withBorder p="md">
            <Group gap="xl" mb="md" wrap="wrap">
              <Field label="Client">
                {client.data ? (
                  <Anchor component={Link} to={`/clients/${invoice.client_id}`}>
                    {client.data.name}
                  </Anchor>
                ) : client.isError ? (
                  "Unavailable"
                ) : (
                  "…"
                )}
              </Field>
              <Field label="Status">
                <InvoiceStatusBadge status={status} testId="invoice-status" />
              </Field>
              <Field label="Issue date">{date(invoice.issue_date)}</Field>
              <Field label="Due date">{date(invoice.due_date)}</Field>
              {invoice.sent_at ? <Field label="Sent">{dateTime(invoice.sent_at)}</Field> : null}
              {invoice.voided_at ? <Field label="Voided">{dateTime(invoice.voided_at)}</Field> : null}
            </Group>
            {invoice.lines.length === 0 ? (
              <EmptyState title="No lines yet">{isDraft ? "Edit the draft to add lines." : null}</EmptyState>
            ) : (
              <Table aria-label="Invoice lines" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Description</Table.Th>
                    <Table.Th ta="right">Quantity</Table.Th>
                    <Table.Th ta="right">Unit price</Table.Th>
                    <Table.Th ta="right">Tax %</Table.Th>
                    <Table.Th ta="right">Amount</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {invoice.lines.map((l) => (
                    <Table.Tr key={l.id}>
                      <Table.Td>{l.description}</Table.Td>
                      <Table.Td ta="right">{Number(l.quantity)}</Table.Td>
                      <Table.Td ta="right">{money(l.unit_price, cur)}</Table.Td>
                      <Table.Td ta="right">{l.tax_rate === null ? "—" : `${Number(l.tax_rate)} %`}</Table.Td>
                      <Table.Td ta="right">{money(l.amount, cur)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {invoice.notes ? (
              <Text size="sm" mt="md" style={{ whiteSpace: "pre-wrap" }}>
                {invoice.notes}
              </Text>
            ) : null}
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Paper withBorder p="md">
            <Stack gap={4} aria-label="Totals" role="group">
              <Row label="Subtotal" value={money(invoice.subtotal, cur)} />
              <Row label="Tax" value={money(invoice.tax_total, cur)} />
              <Row label="Total" value={money(invoice.total, cur)} strong testId="invoice-total" />
              <Row label="Amount paid" value={money(invoice.amount_paid, cur)} testId="invoice-amount-paid" />
              <Row label="Balance due" value={money(invoice.balance_due, cur)} strong testId="invoice-balance-due" />
            </Stack>
          </Paper>
        </Grid.Col>
      </Grid>

      <Paper withBorder p="md" mt="md">
        <Title order={2} size="h4" mb="sm">
          Payments
        </Title>
        <QueryState
          query={allocations}
          isEmpty={(page) => page.total === 0}
          empty={<EmptyState title="No payments applied yet" />}
        >
          {(page) => (
            <Table aria-label="Payments applied" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Applied</Table.Th>
                  <Table.Th>Payment</Table.Th>
                  <Table.Th ta="right">Amount</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((a) => (
                  <Table.Tr key={a.id}>
                    <Table.Td>{dateTime(a.created_at)}</Table.Td>
                    <Table.Td>
                      <Text size="xs" ff="monospace">
                        {a.payment_id.slice(0, 8)}
                      </Text>
                    </Table.Td>
                    <Table.Td ta="right">{money(a.amount, a.currency)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </QueryState>
      </Paper>

      <Modal opened={editing} onClose={edit.close} title={`Edit ${title.toLowerCase()}`} size="xl">
        <InvoiceForm
          initial={invoice}
          initialClient={client.data ? { value: client.data.id, label: client.data.name } : undefined}
          currency={cur}
          submitLabel="Save invoice"
          loadClients={searchClients}
          loadEngagements={clientEngagements}
          onSubmit={save}
          onCancel={edit.close}
        />
      </Modal>
      <Modal opened={voiding} onClose={voidDialog.close} title="Void this invoice?">
        <Stack>
          <Text size="sm">
            A void invoice is final: it stays on record with its number but is no longer owed. This cannot be undone.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={voidDialog.close} data-autofocus>
              Keep invoice
            </Button>
            <Button color="red" onClick={() => void act("void")} loading={busy === "void"}>
              Void invoice
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Modal opened={paying} onClose={payDialog.close} title="Record payment" size="lg">
        <RecordPaymentForm
          balanceDue={invoice.balance_due}
          currency={cur}
          today={today()}
          onSubmit={recordPayment}
          onCancel={payDialog.close}
        />
      </Modal>
    </>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <div>{children}</div>
    </Stack>
  );
}

function Row({ label, value, strong, testId }: { label: string; value: string; strong?: boolean; testId?: string }) {
  return (
    <Group justify="space-between">
      <Text size="sm" fw={strong ? 700 : undefined}>
        {label}
      </Text>
      <Text size="sm" fw={strong ? 700 : undefined} data-testid={testId}>
        {value}
      </Text>
    </Group>
  );
}
