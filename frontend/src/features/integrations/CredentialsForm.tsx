import { Alert, Stack, Text } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useMemo, useState } from "react";

import { ApiError } from "../../api/client";
import {
  fieldPaths,
  type FormValues,
  initialValues,
  type JsonSchema,
  placeProblem,
  schemaFields,
  toBody,
  validateFields,
} from "./schema";
import { SchemaFields } from "./SchemaForm";
import { FormActions } from "../../components/FormActions";

/**
 * New credentials for the same account (a rotated API key, a changed bind password): every field of the
 * provider's credentials schema, empty — stored credentials are never shown. The API's field messages land
 * on the fields they name.
 */
export function CredentialsForm({
  credentialsSchema,
  onSubmit,
  onCancel,
}: {
  credentialsSchema: JsonSchema;
  onSubmit: (credentials: Record<string, unknown>) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const fields = useMemo(
    () => schemaFields(credentialsSchema, "credentials"),
    [credentialsSchema],
  );
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const form = useForm<{ credentials: FormValues }>({
    initialValues: { credentials: initialValues(fields) },
    validate: (values) => validateFields(fields, values.credentials),
  });

  const submit = form.onSubmit(async (values) => {
    setFormError(null);
    setSaving(true);
    try {
      await onSubmit(toBody(fields, values.credentials));
    } catch (error) {
      if (error instanceof ApiError) {
        const { onFields, message } = placeProblem(error, fieldPaths(fields));
        form.setErrors(onFields);
        setFormError(message);
      } else {
        setFormError(error instanceof Error ? error.message : String(error));
      }
    } finally {
      setSaving(false);
    }
  });

  return (
    <form onSubmit={submit} noValidate aria-label="Credentials">
      <Stack>
        <Text size="sm" c="dimmed">
          The connection keeps its history and cursors; a connection waiting for
          re-authorisation is active again.
        </Text>
        {formError ? (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        ) : null}
        <SchemaFields fields={fields} form={form} />
        <FormActions submitLabel="Replace credentials" saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
