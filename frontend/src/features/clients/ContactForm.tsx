import { Checkbox, Group, SimpleGrid, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";

import type { Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

type Contact = Schemas["ContactOut"];
/** A create body, or (editing) an update body carrying the version read. */
export type ContactBody = Schemas["ContactCreate"] & { version?: number };

export interface ContactValues {
  first_name: string;
  last_name: string;
  title: string;
  email: string;
  phone: string;
  email_opt_out: boolean;
  sms_opt_out: boolean;
  call_opt_out: boolean;
}

export function contactValues(contact?: Contact): ContactValues {
  return {
    first_name: contact?.first_name ?? "",
    last_name: contact?.last_name ?? "",
    title: contact?.title ?? "",
    email: contact?.email ?? "",
    phone: contact?.phone ?? "",
    email_opt_out: contact?.email_opt_out ?? false,
    sms_opt_out: contact?.sms_opt_out ?? false,
    call_opt_out: contact?.call_opt_out ?? false,
  };
}

/**
 * What the API is sent: trimmed text, empty optional fields as null — except the last name, which the
 * API stores as "" (never null) — and, when editing, the version read (a stale one is a 409).
 */
export function contactBody(values: ContactValues, initial?: Contact): ContactBody {
  const text = (v: string) => (v.trim() ? v.trim() : null);
  const body: ContactBody = {
    first_name: values.first_name.trim(),
    last_name: values.last_name.trim(),
    title: text(values.title),
    email: text(values.email),
    phone: text(values.phone),
    email_opt_out: values.email_opt_out,
    sms_opt_out: values.sms_opt_out,
    call_opt_out: values.call_opt_out,
  };
  if (initial) body.version = initial.version;
  return body;
}

/** Add or edit a contact; the API's field messages land on the fields, the rest in an alert. */
export function ContactForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial?: Contact;
  submitLabel: string;
  onSubmit: (body: ContactBody) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const form = useForm<ContactValues>({
    initialValues: contactValues(initial),
    validate: {
      first_name: (v) => (v.trim() ? null : "A contact needs a first name"),
      email: (v) => (!v.trim() || /^\S+@\S+\.\S+$/.test(v.trim()) ? null : "Not an email address"),
    },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    await onSubmit(contactBody(values, initial));
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Contact">
      <Stack>
        <FormError message={formError} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="First name" required data-autofocus {...form.getInputProps("first_name")} />
          <TextInput label="Last name" {...form.getInputProps("last_name")} />
          <TextInput label="Title" {...form.getInputProps("title")} />
          <TextInput label="Email" type="email" {...form.getInputProps("email")} />
          <TextInput label="Phone" {...form.getInputProps("phone")} />
        </SimpleGrid>
        <Group>
          <Checkbox label="Email opt-out" {...form.getInputProps("email_opt_out", { type: "checkbox" })} />
          <Checkbox label="SMS opt-out" {...form.getInputProps("sms_opt_out", { type: "checkbox" })} />
          <Checkbox label="Call opt-out" {...form.getInputProps("call_opt_out", { type: "checkbox" })} />
        </Group>
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
