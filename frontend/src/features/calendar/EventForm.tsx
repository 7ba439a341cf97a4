import { Button, Group, SimpleGrid, Stack, Textarea, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import dayjs from "dayjs";
import { useState } from "react";

import type { Schemas } from "../../api/client";
import { ClientPicker } from "../../components/ClientPicker";
import { applyProblem } from "../../lib/forms";
import "./weekLayout"; // dayjs utc + timezone plugins
import { FormError } from "../../components/FormError";
import { useFormSubmit } from "../../lib/useFormSubmit";
import { FormActions } from "../../components/FormActions";

const INPUT_FORMAT = "YYYY-MM-DDTHH:mm";

/** An instant as a datetime-local input's value, in `tz`. */
export function toLocalInput(iso: string, tz: string): string {
  return dayjs(iso).tz(tz).format(INPUT_FORMAT);
}

/** A datetime-local input's value, read in `tz`, as an ISO instant with the zone's offset. */
export function fromLocalInput(value: string, tz: string): string {
  return dayjs.tz(value, INPUT_FORMAT, tz).format();
}

export interface EventValues {
  title: string;
  starts_at: string;
  ends_at: string;
  location: string;
  client_id: string | null;
  description: string;
}

export type EventBody = Pick<Schemas["EventCreate"], "title" | "starts_at" | "ends_at" | "timezone"> & {
  location: string | null;
  client_id: string | null;
  description: string | null;
};

export function eventValues(event: Schemas["EventOut"] | undefined, tz: string, defaultStart?: string): EventValues {
  if (event)
    return {
      title: event.title,
      starts_at: toLocalInput(event.starts_at, tz),
      ends_at: toLocalInput(event.ends_at, tz),
      location: event.location ?? "",
      client_id: event.client_id,
      description: event.description ?? "",
    };
  const start = defaultStart ?? dayjs().tz(tz).add(1, "hour").startOf("hour").format(INPUT_FORMAT);
  return {
    title: "",
    starts_at: start,
    ends_at: dayjs(start).add(1, "hour").format(INPUT_FORMAT),
    location: "",
    client_id: null,
    description: "",
  };
}

/**
 * Create or edit a calendar event. Times are typed in the firm's zone (`tz`) and sent as instants with
 * that zone's offset; the end must be after the start. API field messages land on the fields.
 */
export function EventForm({
  initial,
  tz,
  defaultStart,
  submitLabel,
  onSubmit,
  onCancel,
  onDelete,
}: {
  initial?: Schemas["EventOut"];
  tz: string;
  defaultStart?: string;
  submitLabel: string;
  onSubmit: (body: EventBody) => Promise<unknown>;
  onCancel?: () => void;
  onDelete?: () => Promise<unknown>;
}) {
  const [deleting, setDeleting] = useState(false);
  const form = useForm<EventValues>({
    initialValues: eventValues(initial, tz, defaultStart),
    validate: {
      title: (v) => (v.trim() ? null : "An event needs a title"),
      starts_at: (v) => (v ? null : "When does it start?"),
      ends_at: (v, values) => (!v ? "When does it end?" : values.starts_at && v <= values.starts_at ? "The end must be after the start" : null),
    },
  });

  const { submit, saving, formError, setFormError } = useFormSubmit(form, async (values) => {
    await onSubmit({
      title: values.title.trim(),
      starts_at: fromLocalInput(values.starts_at, tz),
      ends_at: fromLocalInput(values.ends_at, tz),
      timezone: tz,
      location: values.location.trim() || null,
      client_id: values.client_id || null,
      description: values.description.trim() || null,
    });
  });

  const remove = async () => {
    if (!onDelete) return;
    setFormError(null);
    setDeleting(true);
    try {
      await onDelete();
    } catch (error) {
      setFormError(applyProblem(form, error));
    } finally {
      setDeleting(false);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Event">
      <Stack>
        <FormError message={formError} />
        <TextInput label="Title" required data-autofocus {...form.getInputProps("title")} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Starts" type="datetime-local" required {...form.getInputProps("starts_at")} />
          <TextInput label="Ends" type="datetime-local" required {...form.getInputProps("ends_at")} />
        </SimpleGrid>
        <TextInput label="Location" {...form.getInputProps("location")} />
        <ClientPicker
          label="Client"
          clearable
          placeholder="No client"
          value={form.values.client_id}
          error={form.errors.client_id}
          onChange={(value) => form.setFieldValue("client_id", value)}
        />
        <Textarea label="Description" autosize minRows={2} {...form.getInputProps("description")} />
        <Group justify="space-between">
          <div>
            {onDelete ? (
              <Button color="red" variant="light" onClick={() => void remove()} loading={deleting}>
                Delete event
              </Button>
            ) : null}
          </div>
          <FormActions submitLabel={submitLabel} saving={saving} onCancel={onCancel} justify="flex-start" />
        </Group>
      </Stack>
    </form>
  );
}
