import { Alert, Anchor, Badge, Button, Checkbox, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { api, unwrap } from "../../api/client";
import { onConsoleClick } from "../operations/openConsole";
import { dagsterRunUrl, FINISHED, integrationKeys, STATUS_COLOR, syncRequestQuery } from "./queries";

/** "Sync now": queue a sync request, poll it every 2 s until it has finished, then reload the connection. */
export function SyncPanel({
  connectionId,
  dagster,
  onFinished,
}: {
  connectionId: string;
  dagster: string | null;
  onFinished: () => void;
}) {
  const queryClient = useQueryClient();
  const [fullRefresh, setFullRefresh] = useState(false);
  const [requestId, setRequestId] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onFinishedRef = useRef(onFinished);
  onFinishedRef.current = onFinished;
  const request = useQuery({ ...syncRequestQuery(requestId ?? ""), enabled: !!requestId });
  const status = request.data?.status;
  const running = !!requestId && (!status || !FINISHED.has(status));

  const finished = !!status && FINISHED.has(status);
  useEffect(() => {
    if (finished) onFinishedRef.current();
  }, [finished, requestId]);

  const start = async () => {
    setError(null);
    setStarting(true);
    try {
      const r = await unwrap(
        api.POST("/api/v1/connections/{connection_id}/sync", {
          params: { path: { connection_id: connectionId } },
          body: { full_refresh: fullRefresh },
        }),
      );
      queryClient.setQueryData(integrationKeys.syncRequest(r.id), r);
      setRequestId(r.id);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setStarting(false);
    }
  };

  return (
    <Paper withBorder p="md">
      <Group justify="space-between" align="flex-start">
        <Title order={2} size="h4">
          Sync
        </Title>
        <Group>
          <Checkbox label="Full refresh" description="Re-read everything" checked={fullRefresh} onChange={(e) => setFullRefresh(e.currentTarget.checked)} />
          <Button onClick={() => void start()} loading={starting} disabled={running}>
            Sync now
          </Button>
        </Group>
      </Group>
      {error ? (
        <Alert color="red" role="alert" mt="sm">
          {error}
        </Alert>
      ) : null}
      {requestId ? (
        <Stack gap="xs" mt="sm" aria-live="polite" data-testid="sync-request">
          {request.isError ? (
            <Alert color="red" role="alert">
              {request.error.message}
            </Alert>
          ) : null}
          <Group gap="sm">
            <Text size="sm">This sync:</Text>
            <Badge variant="light" color={STATUS_COLOR[status ?? ""] ?? "blue"} data-testid="sync-request-status">
              {status ?? "queued"}
            </Badge>
            {request.data?.full_refresh ? <Badge variant="outline">full refresh</Badge> : null}
            {request.data?.records !== null && request.data?.records !== undefined ? (
              <Text size="sm" data-testid="sync-request-records">
                {request.data.records} records
              </Text>
            ) : null}
            {dagster && request.data?.run_id ? (
              <Anchor
                href={dagsterRunUrl(dagster, request.data.run_id)}
                onClick={onConsoleClick(dagsterRunUrl(dagster, request.data.run_id))}
                size="sm"
              >
                Open run in Dagster
              </Anchor>
            ) : null}
          </Group>
          {request.data?.error ? (
            <Alert color="red" title="The sync failed" data-testid="sync-request-error">
              <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                {request.data.error}
              </Text>
            </Alert>
          ) : null}
        </Stack>
      ) : null}
    </Paper>
  );
}
