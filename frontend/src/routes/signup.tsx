import { Alert, Anchor, Button, Group, PasswordInput, Select, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { useState } from "react";

import { api, unwrap } from "../api/client";
import { useSignIn } from "../auth/useSignIn";
import { AuthCard } from "../components/AuthCard";
import { applyProblem } from "../lib/forms";

export const Route = createFileRoute("/signup")({ component: SignupPage });

const CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY"];

function SignupPage() {
  const signIn = useSignIn();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: {
      firm_name: "",
      full_name: "",
      email: "",
      password: "",
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      currency: "USD",
    },
    validate: {
      firm_name: (v) => (v.trim() ? null : "Name your firm"),
      full_name: (v) => (v.trim() ? null : "Enter your name"),
      email: (v) => (/^\S+@\S+$/.test(v) ? null : "Enter your email address"),
      password: (v) => (v.length >= 12 ? null : "At least 12 characters"),
    },
  });
  const signup = useMutation({
    mutationFn: (values: typeof form.values) =>
      unwrap(api.POST("/api/v1/auth/signup", { body: values as never })),
    onSuccess: (tokens) => signIn(tokens),
    onError: (error) => setFormError(applyProblem(form, error)),
  });

  return (
    <AuthCard
      title="Create your firm"
      footer={
        <>
          Already have an account?{" "}
          <Anchor component={Link} to="/login">
            Sign in
          </Anchor>
        </>
      }
    >
      <form onSubmit={form.onSubmit((values) => signup.mutate(values))} noValidate>
        <Stack>
          {formError ? (
            <Alert color="red" role="alert">
              {formError}
            </Alert>
          ) : null}
          <TextInput label="Firm name" required {...form.getInputProps("firm_name")} />
          <TextInput label="Your name" autoComplete="name" required {...form.getInputProps("full_name")} />
          <TextInput label="Email" type="email" autoComplete="email" required {...form.getInputProps("email")} />
          <PasswordInput
            label="Password"
            description="At least 12 characters"
            autoComplete="new-password"
            required
            {...form.getInputProps("password")}
          />
          <Group grow>
            <TextInput label="Time zone" {...form.getInputProps("timezone")} />
            <Select label="Currency" data={CURRENCIES} allowDeselect={false} {...form.getInputProps("currency")} />
          </Group>
          <Button type="submit" loading={signup.isPending}>
            Create firm
          </Button>
        </Stack>
      </form>
    </AuthCard>
  );
}
