import { Alert, Button, Group, Modal, Radio, Stack } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../api/client";
import { ErrorState, LoadingState } from "../../components/QueryState";

/** The grant covers several vendor accounts (Xero organisations): the user picks the one to connect. */
export function ChooseAccount({
  sessionId,
  providerName,
  onClose,
  onConnected,
}: {
  sessionId: string;
  providerName: string;
  onClose: () => void;
  onConnected: (c: Schemas["ConnectionOut"]) => void;
}) {
  const session = useQuery({
    queryKey: ["oauth-session", sessionId],
    queryFn: () =>
      unwrap(api.GET("/api/v1/connections/oauth/sessions/{session_id}", { params: { path: { session_id: sessionId } } })),
  });
  const [accountId, setAccountId] = useState<string>("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const choose = async () => {
    setError(null);
    setSaving(true);
    try {
      const c = await unwrap(
        api.POST("/api/v1/connections/oauth/sessions/{session_id}/account", {
          params: { path: { session_id: sessionId } },
          body: { account_id: accountId },
        }),
      );
      onConnected(c);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal opened onClose={onClose} title={`Choose the ${providerName} account to connect`}>
      {session.isPending ? (
        <LoadingState />
      ) : session.isError ? (
        <ErrorState error={session.error} onRetry={() => void session.refetch()} />
      ) : session.data.status !== "awaiting_account" ? (
        <Alert color="orange" role="alert">
          This connect flow is no longer waiting for a choice ({session.data.status}
          {session.data.error ? `: ${session.data.error}` : ""}). Start connecting again.
        </Alert>
      ) : (
        <Stack>
          {error ? (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          ) : null}
          <Radio.Group label="Account" value={accountId} onChange={setAccountId} required>
            <Stack gap="xs" mt="xs">
              {session.data.accounts.map((a) => (
                <Radio key={a.id} value={a.id} label={a.name} />
              ))}
            </Stack>
          </Radio.Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button onClick={() => void choose()} disabled={!accountId} loading={saving}>
              Connect this account
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
