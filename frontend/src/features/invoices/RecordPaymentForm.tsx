import { Select, SimpleGrid, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";

import { money } from "../../lib/format";
import { minorUnits, parseDecimal } from "./totals";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

export const PAYMENT_METHODS = [
  { value: "bank_transfer", label: "Bank transfer" },
  { value: "card", label: "Card" },
  { value: "cash", label: "Cash" },
  { value: "check", label: "Check" },
  { value: "direct_debit", label: "Direct debit" },
  { value: "other", label: "Other" },
];

export interface PaymentValues {
  amount: string;
  received_date: string;
  method: string;
  reference: string;
  notes: string;
}

export interface PaymentBody {
  amount: string;
  received_date: string | null;
  method: "bank_transfer" | "card" | "cash" | "check" | "direct_debit" | "other";
  reference: string | null;
  notes: string | null;
}

/**
 * A payment against one invoice: at most its balance due, in the invoice's currency and minor units.
 * `onSubmit` records and allocates it (the route does both calls).
 */
export function RecordPaymentForm({
  balanceDue,
  currency,
  today,
  onSubmit,
  onCancel,
}: {
  balanceDue: string;
  currency: string;
  today: string;
  onSubmit: (body: PaymentBody) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const minor = minorUnits(currency);
  const form = useForm<PaymentValues>({
    initialValues: { amount: balanceDue, received_date: today, method: "bank_transfer", reference: "", notes: "" },
    validate: {
      amount: (v) => {
        const amount = parseDecimal(v, minor);
        if (amount === null) return `An amount with at most ${minor} decimals`;
        if (amount <= BigInt(0)) return "More than zero";
        const balance = parseDecimal(balanceDue, minor);
        if (balance !== null && amount > balance) return `At most the balance due, ${money(balanceDue, currency)}`;
        return null;
      },
      received_date: (v) => (v ? null : "When was it received?"),
    },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit({
      amount: values.amount.trim(),
      received_date: values.received_date || null,
      method: values.method as PaymentBody["method"],
      reference: values.reference.trim() || null,
      notes: values.notes.trim() || null,
    });
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Payment">
      <Stack>
        <FormError message={formError} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label="Amount"
            required
            inputMode="decimal"
            data-autofocus
            rightSection={currency}
            rightSectionWidth={48}
            {...form.getInputProps("amount")}
          />
          <TextInput label="Received on" type="date" required {...form.getInputProps("received_date")} />
          <Select label="Method" data={PAYMENT_METHODS} allowDeselect={false} {...form.getInputProps("method")} />
          <TextInput label="Reference" {...form.getInputProps("reference")} />
        </SimpleGrid>
        <Textarea label="Notes" autosize minRows={2} {...form.getInputProps("notes")} />
        <FormActions submitLabel="Save payment" saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
