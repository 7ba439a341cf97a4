import { Button, CopyButton, Group, Select, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useState } from "react";

import type { Schemas } from "../../api/client";
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";

export type Role = Schemas["Role"];

export const ROLES: { value: Role; label: string }[] = [
  { value: "firm_admin", label: "Firm admin" },
  { value: "partner", label: "Partner" },
  { value: "manager", label: "Manager" },
  { value: "staff", label: "Staff" },
  { value: "billing", label: "Billing" },
  { value: "readonly", label: "Read-only" },
];

export const roleLabel = (role: string) => ROLES.find((r) => r.value === role)?.label ?? role;

export function invitationLink(origin: string, token: string): string {
  return `${origin}/accept-invitation?token=${encodeURIComponent(token)}`;
}

/**
 * Invite a member: email and role. The API answers with a one-time token, shown once as the link to send
 * (only its hash is stored, so it cannot be shown again).
 */
export function InviteForm({
  onSubmit,
  onDone,
  origin = window.location.origin,
}: {
  onSubmit: (body: Schemas["InvitationCreate"]) => Promise<Schemas["InvitationCreated"]>;
  onDone: () => void;
  origin?: string;
}) {
  const [created, setCreated] = useState<Schemas["InvitationCreated"] | null>(null);
  const form = useForm<{ email: string; role: Role }>({
    initialValues: { email: "", role: "staff" },
    validate: { email: (v) => (/^\S+@\S+\.\S+$/.test(v.trim()) ? null : "Not an email address") },
  });

  const { submit, saving, formError } = useFormSubmit(form, async (values) => {
    setCreated(await onSubmit({ email: values.email.trim(), role: values.role }));
  });

  if (created) {
    const link = invitationLink(origin, created.token);
    return (
      <Stack>
        <Text size="sm">
          Send this link to <b>{created.email}</b> ({roleLabel(created.role)}). It is shown only now.
        </Text>
        <Group align="flex-end" wrap="nowrap">
          <TextInput label="Invitation link" value={link} readOnly style={{ flexGrow: 1 }} onFocus={(e) => e.currentTarget.select()} />
          <CopyButton value={link}>
            {({ copied, copy }) => (
              <Button variant={copied ? "filled" : "light"} color={copied ? "teal" : "blue"} onClick={copy}>
                {copied ? "Copied" : "Copy"}
              </Button>
            )}
          </CopyButton>
        </Group>
        <Group justify="flex-end">
          <Button onClick={onDone}>Done</Button>
        </Group>
      </Stack>
    );
  }

  return (
    <form onSubmit={submit} noValidate aria-label="Invite member">
      <Stack>
        <FormError message={formError} />
        <TextInput label="Email" type="email" required data-autofocus {...form.getInputProps("email")} />
        <Select label="Role" data={ROLES} allowDeselect={false} required {...form.getInputProps("role")} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={saving}>
            Send invitation
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
