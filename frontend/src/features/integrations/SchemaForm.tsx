import {
  Alert,
  Checkbox,
  Fieldset,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useForm, type UseFormReturnType } from "@mantine/form";
import { useMemo, useState } from "react";

import { ApiError } from "../../api/client";
import {
  type FormValues,
  fieldPaths,
  initialValues,
  type JsonSchema,
  placeProblem,
  type SchemaField,
  schemaFields,
  toBody,
  validateFields,
} from "./schema";
import { FormActions } from "../../components/FormActions";

type AnyForm = UseFormReturnType<any>;

function hint(field: SchemaField): string | undefined {
  const bits: string[] = [];
  if (field.description) bits.push(field.description);
  if (field.kind === "list") bits.push("One per line.");
  if (field.kind === "json") bits.push("JSON.");
  return bits.join(" ") || undefined;
}

/** One input for one schema field, bound to `form` at the field's path. */
export function SchemaInput({ field, form }: { field: SchemaField; form: AnyForm }) {
  const common = {
    label: field.label,
    description: hint(field),
    required: field.required && field.default === undefined,
  };
  switch (field.kind) {
    case "object":
      return (
        <Fieldset legend={field.label}>
          <Stack gap="xs">
            {field.description ? <div style={{ fontSize: "var(--mantine-font-size-xs)" }}>{field.description}</div> : null}
            {(field.children ?? []).map((c) => (
              <SchemaInput key={c.path} field={c} form={form} />
            ))}
          </Stack>
        </Fieldset>
      );
    case "boolean":
      return <Checkbox {...common} {...form.getInputProps(field.path, { type: "checkbox" })} />;
    case "enum":
      return (
        <Select
          {...common}
          data={field.options ?? []}
          clearable={field.nullable || (!field.required && field.default === undefined)}
          allowDeselect={false}
          {...form.getInputProps(field.path)}
        />
      );
    case "integer":
    case "number":
      return (
        <NumberInput
          {...common}
          min={field.min}
          max={field.max}
          allowDecimal={field.kind === "number"}
          {...form.getInputProps(field.path)}
        />
      );
    case "password":
      return <PasswordInput {...common} autoComplete="new-password" {...form.getInputProps(field.path)} />;
    case "list":
      return <Textarea {...common} autosize minRows={2} {...form.getInputProps(field.path)} />;
    case "json":
      return (
        <Textarea
          {...common}
          autosize
          minRows={3}
          styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          {...form.getInputProps(field.path)}
        />
      );
    default:
      return <TextInput {...common} maxLength={field.maxLength} {...form.getInputProps(field.path)} />;
  }
}

export function SchemaFields({ fields, form }: { fields: SchemaField[]; form: AnyForm }) {
  return (
    <>
      {fields.map((f) => (
        <SchemaInput key={f.path} field={f} form={form} />
      ))}
    </>
  );
}

export interface ConnectBody {
  display_name: string | null;
  sync_interval_minutes: number;
  config: Record<string, unknown>;
  credentials?: Record<string, unknown>;
}

interface Values {
  display_name: string;
  sync_interval_minutes: number | string;
  config: FormValues;
  credentials: FormValues;
}

/**
 * The connect (or edit) form of a provider, rendered from its config and credentials schemas, plus the
 * display name and sync interval. `onSubmit` returns the API call; its problem+json field messages land
 * on the fields they name (or the nearest one shown), the rest in an alert.
 */
export function ConnectionForm({
  configSchema,
  credentialsSchema,
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  configSchema: JsonSchema;
  /** Left out when editing: credentials are write-once (PATCH takes none). */
  credentialsSchema?: JsonSchema;
  initial?: { display_name: string; sync_interval_minutes: number; config: Record<string, unknown> };
  submitLabel: string;
  onSubmit: (body: ConnectBody) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const configFields = useMemo(() => schemaFields(configSchema, "config"), [configSchema]);
  const credentialFields = useMemo(() => schemaFields(credentialsSchema, "credentials"), [credentialsSchema]);
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const form = useForm<Values>({
    initialValues: {
      display_name: initial?.display_name ?? "",
      sync_interval_minutes: initial?.sync_interval_minutes ?? 60,
      config: initialValues(configFields, initial?.config),
      credentials: initialValues(credentialFields),
    },
    validate: (values) => {
      const errors: Record<string, string> = {
        ...validateFields(configFields, values.config),
        ...validateFields(credentialFields, values.credentials),
      };
      const minutes = Number(values.sync_interval_minutes);
      if (values.sync_interval_minutes === "" || !Number.isInteger(minutes) || minutes < 5 || minutes > 10080)
        errors.sync_interval_minutes = "Between 5 and 10080 minutes";
      return errors;
    },
  });

  const submit = form.onSubmit(async (values) => {
    setFormError(null);
    setSaving(true);
    try {
      const body: ConnectBody = {
        display_name: values.display_name.trim() || null,
        sync_interval_minutes: Number(values.sync_interval_minutes),
        config: toBody(configFields, values.config),
      };
      if (credentialsSchema) body.credentials = toBody(credentialFields, values.credentials);
      await onSubmit(body);
    } catch (error) {
      if (error instanceof ApiError) {
        const paths = ["display_name", "sync_interval_minutes", ...fieldPaths(configFields), ...fieldPaths(credentialFields)];
        const { onFields, message } = placeProblem(error, paths);
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
    <form onSubmit={submit} noValidate aria-label="Connection">
      <Stack>
        {formError ? (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        ) : null}
        <TextInput
          label="Display name"
          description="Empty: the provider's name and the account."
          data-autofocus
          {...form.getInputProps("display_name")}
        />
        <NumberInput
          label="Sync interval (minutes)"
          min={5}
          max={10080}
          allowDecimal={false}
          {...form.getInputProps("sync_interval_minutes")}
        />
        {configFields.length ? (
          <Fieldset legend="Settings">
            <Stack gap="sm">
              <SchemaFields fields={configFields} form={form} />
            </Stack>
          </Fieldset>
        ) : null}
        {credentialFields.length ? (
          <Fieldset legend="Credentials (stored encrypted, never shown again)">
            <Stack gap="sm">
              <SchemaFields fields={credentialFields} form={form} />
            </Stack>
          </Fieldset>
        ) : null}
        <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} />
      </Stack>
    </form>
  );
}
