import { NumberInput, Select, SimpleGrid, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";

import type { Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

/** The board's columns, in pipeline order (LeadOut.status; "converted" is set only by converting). */
export const LEAD_STATUSES = [
  { value: "new", label: "New" },
  { value: "contacted", label: "Contacted" },
  { value: "qualified", label: "Qualified" },
  { value: "converted", label: "Converted" },
  { value: "lost", label: "Lost" },
] as const;

/** The statuses a person may set (LeadUpdate.status). */
export const SETTABLE_STATUSES = LEAD_STATUSES.filter((s) => s.value !== "converted");

export interface LeadValues {
  name: string;
  company_name: string;
  email: string;
  phone: string;
  source: string;
  score: number | string;
  status: string;
  notes: string;
}

export function leadBody(values: LeadValues): Schemas["LeadCreate"] {
  const text = (v: string) => (v.trim() ? v.trim() : null);
  return {
    name: values.name.trim(),
    company_name: text(values.company_name),
    email: text(values.email),
    phone: text(values.phone),
    source: text(values.source),
    score: values.score === "" ? null : Number(values.score),
    status: values.status as Schemas["LeadCreate"]["status"],
    notes: text(values.notes),
  };
}

/** A new lead. `onSubmit` returns the API call; its field messages land on the fields. */
export function LeadForm({
  submitLabel,
  onSubmit,
  onCancel,
}: {
  submitLabel: string;
  onSubmit: (body: Schemas["LeadCreate"]) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const form = useForm<LeadValues>({
    initialValues: { name: "", company_name: "", email: "", phone: "", source: "", score: "", status: "new", notes: "" },
    validate: {
      name: (v) => (v.trim() ? null : "A lead needs a name"),
      email: (v) => (!v || /^\S+@\S+\.\S+$/.test(v) ? null : "Not an email address"),
      score: (v) =>
        v === "" || (Number.isInteger(Number(v)) && Number(v) >= 0 && Number(v) <= 100) ? null : "0 to 100",
    },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit(leadBody(values));
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Lead">
      <Stack>
        <FormError message={formError} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
          <TextInput label="Company" {...form.getInputProps("company_name")} />
          <TextInput label="Email" type="email" {...form.getInputProps("email")} />
          <TextInput label="Phone" {...form.getInputProps("phone")} />
          <TextInput label="Source" placeholder="Referral, website…" {...form.getInputProps("source")} />
          <NumberInput label="Score" min={0} max={100} allowDecimal={false} {...form.getInputProps("score")} />
          <Select label="Status" data={SETTABLE_STATUSES} allowDeselect={false} {...form.getInputProps("status")} />
        </SimpleGrid>
        <Textarea label="Notes" autosize minRows={2} {...form.getInputProps("notes")} />
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
