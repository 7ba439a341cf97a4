import { Alert, Anchor, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMutation } from "@tanstack/react-query";
import { createFileRoute, Link, redirect } from "@tanstack/react-router";
import { useState } from "react";

import { api, unwrap } from "../api/client";
import { session } from "../auth/session";
import { useSignIn } from "../auth/useSignIn";
import { AuthCard } from "../components/AuthCard";
import { applyProblem } from "../lib/forms";

export const Route = createFileRoute("/login")({
  validateSearch: (s: Record<string, unknown>): { redirect?: string } =>
    typeof s.redirect === "string" ? { redirect: s.redirect } : {},
  beforeLoad: () => {
    if (session.isSignedIn()) throw redirect({ to: "/" });
  },
  component: LoginPage,
});

function LoginPage() {
  const { redirect: next } = Route.useSearch();
  const signIn = useSignIn();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: { email: "", password: "" },
    validate: {
      email: (v) => (/^\S+@\S+$/.test(v) ? null : "Enter your email address"),
      password: (v) => (v ? null : "Enter your password"),
    },
  });
  const login = useMutation({
    mutationFn: (values: typeof form.values) => unwrap(api.POST("/api/v1/auth/login", { body: values })),
    onSuccess: (tokens) => signIn(tokens, next),
    onError: (error) => setFormError(applyProblem(form, error)),
  });

  return (
    <AuthCard
      title="Sign in"
      footer={
        <>
          New firm?{" "}
          <Anchor component={Link} to="/signup">
            Create an account
          </Anchor>
        </>
      }
    >
      <form onSubmit={form.onSubmit((values) => login.mutate(values))} noValidate>
        <Stack>
          {formError ? (
            <Alert color="red" role="alert">
              {formError}
            </Alert>
          ) : null}
          <TextInput label="Email" type="email" autoComplete="username" required {...form.getInputProps("email")} />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            {...form.getInputProps("password")}
          />
          <Button type="submit" loading={login.isPending}>
            Sign in
          </Button>
        </Stack>
      </form>
    </AuthCard>
  );
}
