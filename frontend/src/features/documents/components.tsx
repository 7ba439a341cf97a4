import { Alert, Button, FileInput, Group, Modal, Progress, Stack, Table, Text, TextInput } from "@mantine/core";
import { useForm } from "@mantine/form";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../api/client";
import { ClientPicker } from "../../components/ClientPicker";
import { ErrorState, LoadingState } from "../../components/QueryState";
import { applyProblem } from "../../lib/forms";
import { dateTime } from "../../lib/format";
import { STEP_LABEL, type UploadStep, uploadErrorMessage } from "./upload";

export function fileSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** Create or rename a folder: one "Folder name" field; API field messages land on it. */
export function FolderForm({
  initialName = "",
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initialName?: string;
  submitLabel: string;
  onSubmit: (name: string) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const form = useForm({
    initialValues: { name: initialName },
    validate: { name: (v) => (v.trim() ? null : "A folder needs a name") },
  });
  const submit = form.onSubmit(async ({ name }) => {
    setFormError(null);
    setSaving(true);
    try {
      await onSubmit(name.trim());
    } catch (error) {
      setFormError(applyProblem(form, error));
    } finally {
      setSaving(false);
    }
  });
  return (
    <form onSubmit={submit} noValidate aria-label="Folder">
      <Stack>
        {formError ? (
          <Alert color="red" role="alert">
            {formError}
          </Alert>
        ) : null}
        <TextInput label="Folder name" required data-autofocus {...form.getInputProps("name")} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={saving}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * Pick a file (and, for a new document, a client) and run `upload`, showing each step while it runs and
 * a clear error if one fails. `upload` receives an onStep callback.
 */
export function UploadForm({
  withClient,
  submitLabel,
  upload,
  onCancel,
}: {
  withClient: boolean;
  submitLabel: string;
  upload: (input: { file: File; clientId: string | null }, onStep: (s: UploadStep) => void) => Promise<unknown>;
  onCancel: () => void;
}) {
  const [file, setFile] = useState<File | null>(null);
  const [clientId, setClientId] = useState<string | null>(null);
  const [step, setStep] = useState<UploadStep | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const busy = step !== null && step !== "done";
  const progress = { hashing: 10, registering: 25, uploading: 60, verifying: 90, done: 100 };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!file) {
      setFileError("Choose a file to upload");
      return;
    }
    setError(null);
    setStep("hashing");
    try {
      await upload({ file, clientId }, setStep);
    } catch (err) {
      setError(uploadErrorMessage(err));
      setStep(null);
    }
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Upload">
      <Stack>
        {error ? (
          <Alert color="red" role="alert" title="Upload failed">
            {error}
          </Alert>
        ) : null}
        <FileInput
          label="File"
          required
          placeholder="Choose a file"
          value={file}
          onChange={(f) => {
            setFile(f);
            setFileError(null);
          }}
          error={fileError}
          disabled={busy}
          clearable
        />
        {withClient ? <ClientPicker label="Client" clearable placeholder="No client" value={clientId} onChange={setClientId} disabled={busy} /> : null}
        {step ? (
          <Stack gap={4} role="status" aria-live="polite">
            <Text size="sm">{STEP_LABEL[step]}</Text>
            <Progress value={progress[step]} animated={busy} aria-label="Upload progress" />
          </Stack>
        ) : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button type="submit" loading={busy}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * Opens a presigned download in a new tab. The tab is opened during the click (so no popup blocker
 * objects) and pointed at the link once the API has signed it; real S3 answers with Content-Disposition:
 * attachment (the tab turns into a download), moto ignores it and shows the file.
 */
export async function openPresigned(sign: () => Promise<{ url: string }>): Promise<void> {
  const tab = window.open("about:blank", "_blank");
  if (tab) tab.opener = null;
  try {
    const { url } = await sign();
    if (tab) tab.location.href = url;
    else window.location.assign(url);
  } catch (error) {
    tab?.close();
    throw error;
  }
}

const openDownload = (documentId: string, versionId: string) =>
  openPresigned(() =>
    unwrap(
      api.GET("/api/v1/documents/{document_id}/versions/{version_id}/download", {
        params: { path: { document_id: documentId, version_id: versionId } },
      }),
    ),
  );

/** Every version of a document, newest first, each with its own download. */
export function VersionsModal({ document, onClose }: { document: Schemas["DocumentOut"] | null; onClose: () => void }) {
  const versions = useQuery({
    queryKey: ["documents", "versions", document?.id],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/documents/{document_id}/versions", {
          params: { path: { document_id: document!.id }, query: { sort: "-created_at", limit: 200 } },
        }),
      ),
    enabled: !!document,
  });
  const [downloadError, setDownloadError] = useState<string | null>(null);
  return (
    <Modal opened={!!document} onClose={onClose} title={`Versions of ${document?.name ?? ""}`} size="lg">
      {downloadError ? (
        <Alert color="red" role="alert" mb="sm">
          {downloadError}
        </Alert>
      ) : null}
      {versions.isPending ? (
        <LoadingState />
      ) : versions.isError ? (
        <ErrorState error={versions.error} onRetry={() => void versions.refetch()} />
      ) : versions.data.items.length === 0 ? (
        <Text c="dimmed">No version uploaded yet.</Text>
      ) : (
        <Table aria-label="Versions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Size</Table.Th>
              <Table.Th>Uploaded</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {versions.data.items.map((v) => (
              <Table.Tr key={v.id}>
                <Table.Td>
                  {v.number ? `v${v.number}` : "—"}
                  {v.id === document?.current_version_id ? " (current)" : ""}
                </Table.Td>
                <Table.Td>{v.status}</Table.Td>
                <Table.Td>{fileSize(v.size_bytes)}</Table.Td>
                <Table.Td>{dateTime(v.completed_at ?? v.created_at)}</Table.Td>
                <Table.Td>
                  {v.status === "available" ? (
                    <Button
                      size="xs"
                      variant="light"
                      aria-label={`Download version ${v.number}`}
                      onClick={() => {
                        setDownloadError(null);
                        openDownload(v.document_id, v.id).catch((e) => setDownloadError(uploadErrorMessage(e)));
                      }}
                    >
                      Download
                    </Button>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Modal>
  );
}
