import { Select, SimpleGrid, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";

import type { Schemas } from "../../api/client";
import { blankToNull } from "../../lib/forms";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

export const CLIENT_STATUSES = [
  { value: "active", label: "Active" },
  { value: "inactive", label: "Inactive" },
  { value: "terminated", label: "Terminated" },
];

const FIELDS = [
  "name",
  "email",
  "phone",
  "industry",
  "address_line1",
  "address_line2",
  "city",
  "region",
  "postal_code",
  "country",
  "notes",
] as const;

export type ClientValues = Record<(typeof FIELDS)[number], string> & { status: string };

export function clientValues(client?: Schemas["ClientOut"]): ClientValues {
  const values = { status: client?.status ?? "active" } as ClientValues;
  for (const f of FIELDS) values[f] = (client?.[f] as string | null | undefined) ?? "";
  return values;
}

/**
 * Create or edit a client. `onSubmit` returns the API call; its problem+json field messages land on the
 * fields, anything else in an alert above the form.
 */
export function ClientForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial?: Schemas["ClientOut"];
  submitLabel: string;
  onSubmit: (body: Schemas["ClientCreate"]) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const form = useForm<ClientValues>({
    initialValues: clientValues(initial),
    validate: {
      name: (v) => (v.trim() ? null : "A client needs a name"),
      email: (v) => (!v || /^\S+@\S+\.\S+$/.test(v) ? null : "Not an email address"),
    },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit(blankToNull(values) as Schemas["ClientCreate"]);
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Client">
      <Stack>
        <FormError message={formError} />
        <TextInput label="Name" required data-autofocus {...form.getInputProps("name")} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Email" type="email" {...form.getInputProps("email")} />
          <TextInput label="Phone" {...form.getInputProps("phone")} />
          <TextInput label="Industry" {...form.getInputProps("industry")} />
          <Select label="Status" data={CLIENT_STATUSES} allowDeselect={false} {...form.getInputProps("status")} />
          <TextInput label="Address" {...form.getInputProps("address_line1")} />
          <TextInput label="Address (line 2)" {...form.getInputProps("address_line2")} />
          <TextInput label="City" {...form.getInputProps("city")} />
          <TextInput label="Region" {...form.getInputProps("region")} />
          <TextInput label="Postal code" {...form.getInputProps("postal_code")} />
          <TextInput label="Country" {...form.getInputProps("country")} />
        </SimpleGrid>
        <Textarea label="Notes" autosize minRows={2} {...form.getInputProps("notes")} />
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
