import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import { type ReactNode, useState } from "react";

import { api, ApiError, unwrap } from "../../../api/client";
import { useCan, useMe } from "../../../auth/me";
import { Can } from "../../../components/Can";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import {
  type Connection,
  connectionQuery,
  dagsterAssetsUrl,
  integrationKeys,
  type Provider,
  providersQuery,
  STATUS_COLOR,
} from "../../../features/integrations/queries";
import { CredentialsForm } from "../../../features/integrations/CredentialsForm";
import { type ConnectBody, ConnectionForm } from "../../../features/integrations/SchemaForm";
import { SyncPanel } from "../../../features/integrations/SyncPanel";
import { onConsoleClick } from "../../../features/operations/openConsole";
import type { JsonSchema } from "../../../features/integrations/schema";
import { ago, dateTime } from "../../../lib/format";

export const Route = createFileRoute("/_app/integrations/$connectionId")({
  component: ConnectionPage,
});

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

function ConnectionPage() {
  const { connectionId } = Route.useParams();
  const connection = useQuery(connectionQuery(connectionId));
  const providers = useQuery(providersQuery);

  return (
    <QueryState query={connection}>
      {(c) => <ConnectionDetail connection={c} provider={providers.data?.find((p) => p.name === c.provider)} />}
    </QueryState>
  );
}

function ConnectionDetail({ connection: c, provider }: { connection: Connection; provider?: Provider }) {
  const me = useMe();
  const dagster = me.dagster_ui_url ?? null;
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [editing, edit] = useDisclosure(false);
  const [deleting, del] = useDisclosure(false);
  const [rekeying, rekey] = useDisclosure(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: integrationKeys.connections });

  const save = async (body: ConnectBody) => {
    await unwrap(
      api.PATCH("/api/v1/connections/{connection_id}", {
        params: { path: { connection_id: c.id } },
        body: { display_name: body.display_name ?? undefined, sync_interval_minutes: body.sync_interval_minutes, config: body.config },
      }),
    );
    await refresh();
    notifications.show({ color: "green", message: "Connection saved" });
    edit.close();
  };

  const replaceCredentials = async (credentials: Record<string, unknown>) => {
    await unwrap(
      api.PUT("/api/v1/connections/{connection_id}/credentials", {
        params: { path: { connection_id: c.id } },
        body: { credentials },
      }),
    );
    await refresh();
    notifications.show({ color: "green", message: "Credentials replaced" });
    rekey.close();
  };

  const remove = async () => {
    setDeleteError(null);
    try {
      await unwrap(api.DELETE("/api/v1/connections/{connection_id}", { params: { path: { connection_id: c.id } } }));
      queryClient.removeQueries({ queryKey: integrationKeys.connection(c.id) });
      await queryClient.invalidateQueries({ queryKey: integrationKeys.connectionList });
      notifications.show({ message: `Connection “${c.display_name}” deleted` });
      void navigate({ to: "/integrations" });
    } catch (e) {
      setDeleteError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <>
      <Anchor component={Link} to="/integrations" size="sm">
        ← Integrations
      </Anchor>
      <PageHeader title={c.display_name}>
        {dagster ? (
          <Button
            component="a"
            href={dagsterAssetsUrl(dagster, c.provider)}
            onClick={onConsoleClick(dagsterAssetsUrl(dagster, c.provider))}
            variant="subtle"
          >
            Open assets in Dagster
          </Button>
        ) : null}
        <Can permission="connections:write">
          <Button variant="default" onClick={edit.open}>
            Edit
          </Button>
          <Button variant={c.status === "needs_reauth" ? "filled" : "default"} onClick={rekey.open}>
            Replace credentials
          </Button>
          <Button color="red" variant="light" onClick={del.open}>
            Delete
          </Button>
        </Can>
      </PageHeader>
      <Stack>
        <Group gap="xs" mt={-8}>
          <Text size="sm" c="dimmed">
            Status
          </Text>
          <Badge data-testid="connection-status" variant="light" color={STATUS_COLOR[c.status] ?? "gray"} size="lg">
            {c.status}
          </Badge>
        </Group>
        {c.status_detail ? (
          <Alert color={c.status === "active" ? "blue" : "orange"} data-testid="status-detail">
            {c.status_detail}
          </Alert>
        ) : null}
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="sm">
              Details
            </Title>
            <SimpleGrid cols={2}>
              <Fact label="Provider">{provider?.display_name ?? c.provider}</Fact>
              <Fact label="Account">{c.account_id}</Fact>
              <Fact label="Sync interval">every {c.sync_interval_minutes} min</Fact>
              <Fact label="Connected">{dateTime(c.created_at)}</Fact>
            </SimpleGrid>
          </Paper>
          <Paper withBorder p="md">
            <Title order={2} size="h4" mb="sm">
              Last sync
            </Title>
            {c.last_sync.at ? (
              <Stack gap="xs">
                <SimpleGrid cols={3}>
                  <Fact label="When">
                    <span title={dateTime(c.last_sync.at)}>{ago(c.last_sync.at)}</span>
                  </Fact>
                  <Fact label="Result">
                    <Badge variant="light" color={STATUS_COLOR[c.last_sync.status ?? ""] ?? "gray"} data-testid="last-sync-status">
                      {c.last_sync.status ?? "—"}
                    </Badge>
                  </Fact>
                  <Fact label="Records">{c.last_sync.records ?? "—"}</Fact>
                </SimpleGrid>
                {c.last_sync.error ? (
                  <Alert color="red" title="The last sync failed" data-testid="last-sync-error">
                    <Text size="sm" style={{ whiteSpace: "pre-wrap" }}>
                      {c.last_sync.error}
                    </Text>
                  </Alert>
                ) : null}
              </Stack>
            ) : (
              <Text c="dimmed" size="sm">
                Not synced yet.
              </Text>
            )}
          </Paper>
        </SimpleGrid>
        <Can permission="connections:sync">
          <SyncPanel
            connectionId={c.id}
            dagster={dagster}
            onFinished={() => void queryClient.invalidateQueries({ queryKey: integrationKeys.connection(c.id) })}
          />
        </Can>
        {provider?.mapping_schema ? <MappingPanel connectionId={c.id} /> : null}
        <DeadLetters connectionId={c.id} />
        <Conflicts connectionId={c.id} />
      </Stack>
      <Modal opened={editing} onClose={edit.close} title={`Edit ${c.display_name}`} size="lg">
        {provider ? (
          <ConnectionForm
            configSchema={provider.config_schema as JsonSchema}
            initial={{ display_name: c.display_name, sync_interval_minutes: c.sync_interval_minutes, config: c.config }}
            submitLabel="Save changes"
            onSubmit={save}
            onCancel={edit.close}
          />
        ) : (
          <Text>Loading the provider…</Text>
        )}
      </Modal>
      <Modal opened={rekeying} onClose={rekey.close} title={`New credentials for ${c.display_name}`} size="lg">
        {provider ? (
          <CredentialsForm
            credentialsSchema={provider.credentials_schema as JsonSchema}
            onSubmit={replaceCredentials}
            onCancel={rekey.close}
          />
        ) : (
          <Text>Loading the provider…</Text>
        )}
      </Modal>
      <Modal opened={deleting} onClose={del.close} title="Delete this connection?">
        <Stack>
          {deleteError ? (
            <Alert color="red" role="alert">
              {deleteError}
            </Alert>
          ) : null}
          <Text size="sm">
            “{c.display_name}” stops syncing and its stored credentials are removed. Records already synced stay.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={del.close}>
              Cancel
            </Button>
            <Button color="red" onClick={() => void remove()}>
              Delete connection
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function MappingPanel({ connectionId }: { connectionId: string }) {
  const queryClient = useQueryClient();
  const canWrite = useCan("connections:write");
  const mapping = useQuery({
    queryKey: integrationKeys.mapping(connectionId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/connections/{connection_id}/mapping", { params: { path: { connection_id: connectionId } } })),
  });
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const value = text ?? (mapping.data ? JSON.stringify(mapping.data.mapping, null, 2) : "");

  const save = async () => {
    setError(null);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(value) as Record<string, unknown>;
    } catch {
      setError("Not valid JSON");
      return;
    }
    setSaving(true);
    try {
      const out = await unwrap(
        api.PUT("/api/v1/connections/{connection_id}/mapping", { params: { path: { connection_id: connectionId } }, body }),
      );
      queryClient.setQueryData(integrationKeys.mapping(connectionId), out);
      setText(null);
      notifications.show({ color: "green", message: "Mapping saved" });
    } catch (e) {
      if (e instanceof ApiError && e.problem.errors?.length)
        setError(e.problem.errors.map((fe) => `${fe.field}: ${fe.message}`).join("\n"));
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Paper withBorder p="md">
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Mapping
        </Title>
        {mapping.data ? (
          <Badge color={mapping.data.complete ? "green" : "orange"} variant="light">
            {mapping.data.complete ? "complete" : "incomplete: pushes need it"}
          </Badge>
        ) : null}
      </Group>
      <QueryState query={mapping}>
        {(m) => (
          <Stack>
            {typeof m.mapping_schema.description === "string" ? (
              <Text size="sm" c="dimmed">
                {m.mapping_schema.description}
              </Text>
            ) : null}
            {error ? (
              <Alert color="red" role="alert" style={{ whiteSpace: "pre-wrap" }}>
                {error}
              </Alert>
            ) : null}
            <Textarea
              label="Mapping (JSON)"
              description={`Fields: ${Object.keys((m.mapping_schema.properties as object | undefined) ?? {}).join(", ")}`}
              autosize
              minRows={4}
              readOnly={!canWrite}
              value={value}
              onChange={(e) => setText(e.currentTarget.value)}
              styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
            />
            {canWrite ? (
              <Group justify="flex-end">
                <Button onClick={() => void save()} loading={saving}>
                  Save mapping
                </Button>
              </Group>
            ) : null}
          </Stack>
        )}
      </QueryState>
    </Paper>
  );
}

function DeadLetters({ connectionId }: { connectionId: string }) {
  const queryClient = useQueryClient();
  const canSync = useCan("connections:sync");
  const letters = useQuery({
    queryKey: integrationKeys.deadLetters(connectionId),
    queryFn: () =>
      unwrap(api.GET("/api/v1/dead-letters", { params: { query: { connection_id: connectionId, limit: 100 } } })),
  });
  const [retrying, setRetrying] = useState<string | null>(null);

  const retry = async (id: string) => {
    setRetrying(id);
    try {
      const out = await unwrap(api.POST("/api/v1/dead-letters/{letter_id}/retry", { params: { path: { letter_id: id } } }));
      notifications.show({ color: out.status === "resolved" ? "green" : "orange", message: `Retried: ${out.status}` });
      await queryClient.invalidateQueries({ queryKey: integrationKeys.deadLetters(connectionId) });
    } catch (e) {
      notifications.show({ color: "red", title: "Retry failed", message: e instanceof Error ? e.message : String(e) });
    } finally {
      setRetrying(null);
    }
  };

  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Dead letters
      </Title>
      <QueryState
        query={letters}
        isEmpty={(p) => p.total === 0}
        empty={<EmptyState title="No dead letters">Every record this connection read was stored.</EmptyState>}
      >
        {(p) => (
          <Table.ScrollContainer minWidth={700}>
            <Table aria-label="Dead letters" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Stream</Table.Th>
                  <Table.Th>External id</Table.Th>
                  <Table.Th>Error</Table.Th>
                  <Table.Th>Attempts</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Last attempt</Table.Th>
                  {canSync ? <Table.Th>Action</Table.Th> : null}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {p.items.map((l) => (
                  <Table.Tr key={l.id}>
                    <Table.Td>{l.stream}</Table.Td>
                    <Table.Td>{l.external_id}</Table.Td>
                    <Table.Td>
                      <Text size="sm" c="red" lineClamp={3} title={l.error}>
                        {l.error}
                      </Text>
                    </Table.Td>
                    <Table.Td>{l.attempts}</Table.Td>
                    <Table.Td miw={100}>
                      <Badge variant="light" color={l.status === "resolved" ? "green" : "orange"}>
                        {l.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td miw={140}>{dateTime(l.last_attempt_at)}</Table.Td>
                    {canSync ? (
                      <Table.Td>
                        {l.status !== "resolved" ? (
                          <Button size="xs" variant="light" loading={retrying === l.id} onClick={() => void retry(l.id)}>
                            Retry
                          </Button>
                        ) : null}
                      </Table.Td>
                    ) : null}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
            {p.total > p.items.length ? (
              <Text size="sm" c="dimmed" mt="xs">
                Showing the latest {p.items.length} of {p.total}.
              </Text>
            ) : null}
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Paper>
  );
}

function Conflicts({ connectionId }: { connectionId: string }) {
  const conflicts = useQuery({
    queryKey: integrationKeys.conflicts(connectionId, 1),
    queryFn: () =>
      unwrap(api.GET("/api/v1/sync-conflicts", { params: { query: { connection_id: connectionId, limit: 50 } } })),
  });
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Sync conflicts
      </Title>
      <QueryState
        query={conflicts}
        isEmpty={(p) => p.total === 0}
        empty={<EmptyState title="No conflicts">No record was changed on both sides between syncs.</EmptyState>}
      >
        {(p) => (
          <>
            <Table.ScrollContainer minWidth={700}>
              <Table aria-label="Sync conflicts" striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Entity</Table.Th>
                    <Table.Th>External id</Table.Th>
                    <Table.Th>Resolution</Table.Th>
                    <Table.Th>Changed in firmsync</Table.Th>
                    <Table.Th>Changed at the vendor</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {p.items.map((x) => (
                    <Table.Tr key={x.id}>
                      <Table.Td>{dateTime(x.created_at)}</Table.Td>
                      <Table.Td>{x.entity}</Table.Td>
                      <Table.Td>{x.external_id}</Table.Td>
                      <Table.Td>
                        <Badge variant="light">{x.resolution === "platform_wins" ? "firmsync kept" : "vendor kept"}</Badge>
                      </Table.Td>
                      <Table.Td>{dateTime(x.platform_updated_at)}</Table.Td>
                      <Table.Td>{dateTime(x.vendor_updated_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {p.total > p.items.length ? (
              <Text size="sm" c="dimmed" mt="xs">
                Showing the latest {p.items.length} of {p.total}.
              </Text>
            ) : null}
          </>
        )}
      </QueryState>
    </Paper>
  );
}
