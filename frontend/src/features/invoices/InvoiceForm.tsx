import {
  ActionIcon,
  Button,
  Group,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery } from "@tanstack/react-query";

import type { Schemas } from "../../api/client";
import { ClientPicker } from "../../components/ClientPicker";
import { money } from "../../lib/format";
import { invoiceTotals, parseDecimal } from "./totals";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

export interface Option {
  value: string;
  label: string;
}

export interface LineValues {
  key: string;
  description: string;
  quantity: string;
  unit_price: string;
  tax_rate: string;
}

export interface InvoiceValues {
  client_id: string | null;
  engagement_id: string | null;
  issue_date: string;
  due_date: string;
  notes: string;
  lines: LineValues[];
}

let nextKey = 0;
const newLine = (line?: Partial<LineValues>): LineValues => ({
  key: `line-${++nextKey}`,
  description: "",
  quantity: "1",
  unit_price: "",
  tax_rate: "",
  ...line,
});

export function invoiceValues(invoice?: Schemas["InvoiceOut"]): InvoiceValues {
  return {
    client_id: invoice?.client_id ?? null,
    engagement_id: invoice?.engagement_id ?? null,
    issue_date: invoice?.issue_date ?? "",
    due_date: invoice?.due_date ?? "",
    notes: invoice?.notes ?? "",
    lines: invoice?.lines.length
      ? invoice.lines.map((l) =>
          newLine({
            description: l.description,
            quantity: trimZeros(l.quantity),
            unit_price: trimZeros(l.unit_price),
            tax_rate: l.tax_rate === null ? "" : trimZeros(l.tax_rate),
          }),
        )
      : [newLine()],
  };
}

/** "2.5000" → "2.5", "10.0000" → "10" (how a person would type it). */
function trimZeros(value: string): string {
  return value.includes(".") ? value.replace(/0+$/, "").replace(/\.$/, "") : value;
}

/** The body the API takes (InvoiceCreate; InvoiceUpdate's fields are the same). */
export function invoiceBody(values: InvoiceValues): Schemas["InvoiceCreate"] {
  return {
    client_id: values.client_id ?? "",
    engagement_id: values.engagement_id || null,
    issue_date: values.issue_date || null,
    due_date: values.due_date || null,
    notes: values.notes.trim() ? values.notes : null,
    lines: values.lines.map((l) => ({
      description: l.description.trim(),
      quantity: l.quantity.trim(),
      unit_price: l.unit_price.trim(),
      tax_rate: l.tax_rate.trim() ? l.tax_rate.trim() : null,
    })),
  };
}

const DECIMAL_HINT = "A number with at most 4 decimals";

/**
 * Create or edit (draft) an invoice: client, engagement, dates, notes and lines, with totals computed as
 * the user types, exactly as the server will (totals.ts). `onSubmit` returns the API call; its field
 * messages ("lines.1.unit_price") land on the fields.
 */
export function InvoiceForm({
  initial,
  initialClient,
  currency,
  submitLabel,
  loadClients,
  loadEngagements,
  onSubmit,
  onCancel,
}: {
  initial?: Schemas["InvoiceOut"];
  /** The initial client as an option, so its name shows before any search. */
  initialClient?: Option;
  currency: string;
  submitLabel: string;
  loadClients: (q: string) => Promise<Option[]>;
  loadEngagements: (clientId: string) => Promise<Option[]>;
  onSubmit: (body: Schemas["InvoiceCreate"]) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const form = useForm<InvoiceValues>({
    mode: "controlled",
    initialValues: invoiceValues(initial),
    validate: {
      client_id: (v) => (v ? null : "Choose a client"),
      due_date: (v, values) =>
        v && values.issue_date && v < values.issue_date ? "The due date is before the issue date" : null,
      lines: {
        description: (v) => (v.trim() ? null : "Describe the line"),
        quantity: (v) => {
          const q = parseDecimal(v);
          return q === null ? DECIMAL_HINT : q > BigInt(0) ? null : "More than zero";
        },
        unit_price: (v) => (parseDecimal(v) === null ? DECIMAL_HINT : null),
        tax_rate: (v) => {
          if (!v.trim()) return null;
          const r = parseDecimal(v);
          return r === null ? DECIMAL_HINT : r > BigInt(100 * 10_000) ? "At most 100 %" : null;
        },
      },
    },
  });

  const clientId = form.values.client_id;
  const engagements = useQuery({
    queryKey: ["invoice-form", "engagements", clientId],
    queryFn: () => loadEngagements(clientId!),
    enabled: !!clientId,
  });

  const totals = invoiceTotals(form.values.lines, currency);

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit(invoiceBody(values));
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Invoice">
      <Stack>
        <FormError message={formError} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <ClientPicker
            label="Client"
            required
            value={form.values.client_id}
            selected={initialClient}
            loadClients={loadClients}
            error={form.errors.client_id}
            onChange={(value) => {
              form.setFieldValue("client_id", value);
              form.setFieldValue("engagement_id", null);
            }}
          />
          <Select
            label="Engagement"
            placeholder={clientId ? "None" : "Choose a client first"}
            clearable
            disabled={!clientId}
            data={engagements.data ?? []}
            {...form.getInputProps("engagement_id")}
          />
          <TextInput label="Issue date" type="date" description="Default: today" {...form.getInputProps("issue_date")} />
          <TextInput
            label="Due date"
            type="date"
            description="Default: 30 days after issue"
            {...form.getInputProps("due_date")}
          />
          <TextInput label="Currency" value={currency} readOnly description="The firm's billing currency" />
        </SimpleGrid>

        <Table aria-label="Invoice lines" verticalSpacing={4} withRowBorders={false}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Description</Table.Th>
              <Table.Th w={100}>Quantity</Table.Th>
              <Table.Th w={130}>Unit price</Table.Th>
              <Table.Th w={90}>Tax %</Table.Th>
              <Table.Th w={120} ta="right">
                Amount
              </Table.Th>
              <Table.Th w={40} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {form.values.lines.map((line, i) => (
              <Table.Tr key={line.key} style={{ verticalAlign: "top" }}>
                <Table.Td>
                  <TextInput aria-label={`Line ${i + 1} description`} {...form.getInputProps(`lines.${i}.description`)} />
                </Table.Td>
                <Table.Td>
                  <TextInput
                    aria-label={`Line ${i + 1} quantity`}
                    inputMode="decimal"
                    {...form.getInputProps(`lines.${i}.quantity`)}
                  />
                </Table.Td>
                <Table.Td>
                  <TextInput
                    aria-label={`Line ${i + 1} unit price`}
                    inputMode="decimal"
                    {...form.getInputProps(`lines.${i}.unit_price`)}
                  />
                </Table.Td>
                <Table.Td>
                  <TextInput
                    aria-label={`Line ${i + 1} tax rate (%)`}
                    inputMode="decimal"
                    placeholder="0"
                    {...form.getInputProps(`lines.${i}.tax_rate`)}
                  />
                </Table.Td>
                <Table.Td ta="right" pt={10} data-testid={`line-${i + 1}-amount`}>
                  {totals.lines[i]?.amount === null ? "—" : money(totals.lines[i]?.amount, currency)}
                </Table.Td>
                <Table.Td>
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    mt={4}
                    aria-label={`Remove line ${i + 1}`}
                    disabled={form.values.lines.length === 1}
                    onClick={() => form.removeListItem("lines", i)}
                  >
                    ×
                  </ActionIcon>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Group justify="space-between" align="flex-start">
          <Button variant="light" onClick={() => form.insertListItem("lines", newLine())}>
            Add line
          </Button>
          <Stack gap={2} miw={220} aria-live="polite" aria-label="Invoice totals" role="group">
            <Group justify="space-between">
              <Text size="sm">Subtotal</Text>
              <Text size="sm" data-testid="invoice-subtotal">
                {money(totals.subtotal, currency)}
              </Text>
            </Group>
            <Group justify="space-between">
              <Text size="sm">Tax</Text>
              <Text size="sm" data-testid="invoice-tax">
                {money(totals.tax, currency)}
              </Text>
            </Group>
            <Group justify="space-between">
              <Text fw={700}>Total</Text>
              <Text fw={700} data-testid="invoice-total">
                {money(totals.total, currency)}
              </Text>
            </Group>
          </Stack>
        </Group>
        <Textarea label="Notes" autosize minRows={2} {...form.getInputProps("notes")} />
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
