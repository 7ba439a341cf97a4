import { ActionIcon, Button, Group, Select, SimpleGrid, Stack, Table, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useForm } from "@mantine/form";

import type { Schemas } from "../../api/client";
import { lineAmountMinor, linesTotal, minorToString, parseDecimal } from "../../lib/decimal";
import { money } from "../../lib/format";
import { type ClientOption, ClientPicker } from "../../components/ClientPicker";
import { ENGAGEMENT_STATUSES, PRICING_MODES } from "./queries";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

type Engagement = Schemas["EngagementOut"];
export type PricingMode = "fixed" | "hourly" | "retainer";

export const FEE_FIELD = { fixed: "fixed_fee", hourly: "hourly_rate", retainer: "retainer_amount" } as const;
const FEE_LABEL = { fixed: "Fixed fee", hourly: "Hourly rate", retainer: "Retainer amount" } as const;

export interface LineValues {
  description: string;
  quantity: string;
  unit_price: string;
}

export interface EngagementValues {
  client_id: string | null;
  title: string;
  description: string;
  status: string;
  pricing_mode: PricingMode;
  fixed_fee: string;
  hourly_rate: string;
  retainer_amount: string;
  start_date: string;
  end_date: string;
  lines: LineValues[];
}

export type EngagementBody = Schemas["EngagementCreate"] | Schemas["EngagementUpdate"];

export function engagementValues(e?: Engagement, clientId?: string): EngagementValues {
  return {
    client_id: e?.client_id ?? clientId ?? null,
    title: e?.title ?? "",
    description: e?.description ?? "",
    status: e?.status ?? "draft",
    pricing_mode: (e?.pricing_mode as PricingMode | undefined) ?? "fixed",
    fixed_fee: e?.fixed_fee ?? "",
    hourly_rate: e?.hourly_rate ?? "",
    retainer_amount: e?.retainer_amount ?? "",
    start_date: e?.start_date ?? "",
    end_date: e?.end_date ?? "",
    lines: (e?.lines ?? []).map((l) => ({ description: l.description, quantity: l.quantity, unit_price: l.unit_price })),
  };
}

/**
 * What the API is sent: only the fee of the chosen pricing mode (the others null, as the API requires),
 * blanks as null, the lines in order; editing adds the version read and leaves the client out (it
 * cannot change).
 */
export function engagementBody(values: EngagementValues, initial?: Engagement): EngagementBody {
  const text = (v: string) => (v.trim() ? v.trim() : null);
  const feeField = FEE_FIELD[values.pricing_mode];
  const common = {
    title: values.title.trim(),
    description: text(values.description),
    status: values.status as "draft" | "active",
    pricing_mode: values.pricing_mode,
    fixed_fee: null as string | null,
    hourly_rate: null as string | null,
    retainer_amount: null as string | null,
    start_date: text(values.start_date),
    end_date: text(values.end_date),
    lines: values.lines.map((l) => ({
      description: l.description.trim(),
      quantity: l.quantity.trim() || "1",
      unit_price: l.unit_price.trim(),
    })),
  };
  common[feeField] = text(values[feeField]);
  if (initial) return { ...common, status: values.status as Schemas["EngagementUpdate"]["status"], version: initial.version };
  return { ...common, client_id: values.client_id ?? "" };
}

const amountError = (v: string) => (!v.trim() || parseDecimal(v) ? null : "A positive amount, e.g. 1250.00");

export function EngagementForm({
  initial,
  initialClient,
  submitLabel,
  onSubmit,
  onCancel,
  loadClients,
}: {
  initial?: Engagement;
  /** The client's option (editing, or creating from a client's page). */
  initialClient?: ClientOption | null;
  submitLabel: string;
  onSubmit: (body: EngagementBody) => Promise<unknown>;
  onCancel?: () => void;
  loadClients?: (q: string) => Promise<ClientOption[]>;
}) {
  const form = useForm<EngagementValues>({
    initialValues: engagementValues(initial, initialClient?.value),
    validate: {
      client_id: (v) => (v ? null : "Choose a client"),
      title: (v) => (v.trim() ? null : "An engagement needs a title"),
      fixed_fee: (v, values) => (values.pricing_mode === "fixed" && !v.trim() ? "Required for a fixed fee" : amountError(v)),
      hourly_rate: (v, values) => (values.pricing_mode === "hourly" && !v.trim() ? "Required for hourly pricing" : amountError(v)),
      retainer_amount: (v, values) =>
        values.pricing_mode === "retainer" && !v.trim() ? "Required for a retainer" : amountError(v),
      end_date: (v, values) => (v && values.start_date && v < values.start_date ? "Ends before it starts" : null),
      lines: {
        description: (v) => (v.trim() ? null : "Describe the line"),
        quantity: (v) => (!v.trim() || (parseDecimal(v) && Number(v) > 0) ? null : "A quantity above 0"),
        unit_price: (v) => (parseDecimal(v) ? null : "A price, e.g. 150.00"),
      },
    },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit(engagementBody(values, initial));
  });

  const values = form.getValues();
  const currency = initial?.currency ?? "USD";
  const feeField = FEE_FIELD[values.pricing_mode];
  const statuses = initial ? ENGAGEMENT_STATUSES : ENGAGEMENT_STATUSES.filter((s) => s.value === "draft" || s.value === "active");

  return (
    <form onSubmit={submit} noValidate aria-label="Engagement">
      <Stack>
        <FormError message={formError} />
        <ClientPicker
          label="Client"
          required
          disabled={!!initial}
          value={form.getValues().client_id}
          onChange={(v) => form.setFieldValue("client_id", v)}
          selected={initialClient}
          loadClients={loadClients}
          error={form.errors.client_id}
        />
        <TextInput label="Title" required data-autofocus {...form.getInputProps("title")} />
        <Textarea label="Description" autosize minRows={2} {...form.getInputProps("description")} />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select label="Status" data={statuses} allowDeselect={false} {...form.getInputProps("status")} />
          <Select label="Pricing" data={PRICING_MODES} allowDeselect={false} {...form.getInputProps("pricing_mode")} />
          <TextInput
            key={feeField}
            label={FEE_LABEL[values.pricing_mode]}
            required
            inputMode="decimal"
            {...form.getInputProps(feeField)}
          />
          <TextInput label="Start date" type="date" {...form.getInputProps("start_date")} />
          <TextInput label="End date" type="date" {...form.getInputProps("end_date")} />
        </SimpleGrid>
        <Title order={3} size="h5">
          Lines
        </Title>
        {values.lines.length ? (
          <Table aria-label="Engagement lines" withRowBorders={false}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Description</Table.Th>
                <Table.Th w={110}>Quantity</Table.Th>
                <Table.Th w={140}>Unit price</Table.Th>
                <Table.Th w={120}>Amount</Table.Th>
                <Table.Th w={40} />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {values.lines.map((line, i) => {
                const amount = lineAmountMinor(line.quantity.trim() || "1", line.unit_price);
                return (
                  <Table.Tr key={form.key(`lines.${i}`)}>
                    <Table.Td>
                      <TextInput aria-label={`Line ${i + 1} description`} {...form.getInputProps(`lines.${i}.description`)} />
                    </Table.Td>
                    <Table.Td>
                      <TextInput aria-label={`Line ${i + 1} quantity`} inputMode="decimal" {...form.getInputProps(`lines.${i}.quantity`)} />
                    </Table.Td>
                    <Table.Td>
                      <TextInput aria-label={`Line ${i + 1} unit price`} inputMode="decimal" {...form.getInputProps(`lines.${i}.unit_price`)} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ta="right">
                        {amount === null ? "—" : money(minorToString(amount), currency)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <ActionIcon variant="subtle" color="red" aria-label={`Remove line ${i + 1}`} onClick={() => form.removeListItem("lines", i)}>
                        ×
                      </ActionIcon>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        ) : (
          <Text size="sm" c="dimmed">
            No lines.
          </Text>
        )}
        <Group justify="space-between">
          <Button variant="light" size="xs" onClick={() => form.insertListItem("lines", { description: "", quantity: "1", unit_price: "" })}>
            Add line
          </Button>
          <Text fw={600} aria-live="polite" data-testid="lines-total">
            Lines total: {money(linesTotal(values.lines.map((l) => ({ ...l, quantity: l.quantity.trim() || "1" }))), currency)}
          </Text>
        </Group>
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
