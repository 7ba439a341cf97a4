import { Alert, Button, PasswordInput, Stack, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState } from "react";

import { api, unwrap } from "../api/client";
import { useSignIn } from "../auth/useSignIn";
import { AuthCard } from "../components/AuthCard";
import { applyProblem } from "../lib/forms";

export const Route = createFileRoute("/accept-invitation")({
  validateSearch: (s: Record<string, unknown>) => ({ token: typeof s.token === "string" ? s.token : "" }),
  component: AcceptInvitationPage,
});

function AcceptInvitationPage() {
  const { token } = Route.useSearch();
  const signIn = useSignIn();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: { token, full_name: "", password: "" },
    validate: { password: (v) => (v.length >= 12 ? null : "At least 12 characters") },
  });
  const accept = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(
        api.POST("/api/v1/auth/accept-invitation", {
          body: { ...values, full_name: values.full_name.trim() || null },
        }),
      ),
    onSuccess: (tokens) => signIn(tokens),
    onError: (error) => setFormError(applyProblem(form, error)),
  });

  return (
    <AuthCard title="Join your firm">
      <Text size="sm" c="dimmed">
        New to firmsync? Enter your name and choose a password. Already have an account? Enter its password.
      </Text>
      <form onSubmit={form.onSubmit((values) => accept.mutate(values))} noValidate>
        <Stack>
          {formError ? (
            <Alert color="red" role="alert">
              {formError}
            </Alert>
          ) : null}
          <TextInput label="Invitation code" required {...form.getInputProps("token")} />
          <TextInput label="Your name" autoComplete="name" {...form.getInputProps("full_name")} />
          <PasswordInput label="Password" autoComplete="new-password" required {...form.getInputProps("password")} />
          <Button type="submit" loading={accept.isPending}>
            Join
          </Button>
        </Stack>
      </form>
    </AuthCard>
  );
}
