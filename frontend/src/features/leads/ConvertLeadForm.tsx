import { Anchor, Button, Checkbox, Group, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { Link } from "@tanstack/react-router";
import { useState } from "react";

import type { Schemas } from "../../api/client";
import type { Lead } from "./queries";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";

/** Converts a lead into a client (and, by default, a contact); then offers the new client. */
export function ConvertLeadForm({
  lead,
  onSubmit,
  onClose,
}: {
  lead: Lead;
  onSubmit: (body: Schemas["LeadConvert"]) => Promise<Schemas["LeadConversion"]>;
  onClose: () => void;
}) {
  const [done, setDone] = useState<Schemas["LeadConversion"] | null>(null);
  const form = useForm({
    initialValues: { client_name: lead.company_name || lead.name, create_contact: true },
    validate: { client_name: (v) => (v.trim() ? null : "The client needs a name") },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    setDone(
      await onSubmit({
        client_name: values.client_name.trim(),
        create_contact: values.create_contact,
        version: lead.version,
      }),
    );
  });

  if (done) {
    return (
      <Stack>
        <Text role="status">
          {lead.name} is now the client “{done.client.name}”{done.contact ? ", with a contact" : ""}.
        </Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Close
          </Button>
          <Anchor component={Link} to={`/clients/${done.client.id}`} onClick={onClose}>
            Open client {done.client.name}
          </Anchor>
        </Group>
      </Stack>
    );
  }

  return (
    <form onSubmit={submit} noValidate aria-label="Convert lead">
      <Stack>
        <FormError message={formError} />
        <TextInput label="Client name" required data-autofocus {...form.getInputProps("client_name")} />
        <Checkbox
          label="Also create a contact for this person"
          {...form.getInputProps("create_contact", { type: "checkbox" })}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={saving}>
            Convert
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
