import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, Link, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useEffect, useState } from "react";

import { api, unwrap } from "../../../api/client";
import { useCan } from "../../../auth/me";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { ChooseAccount } from "../../../features/integrations/ChooseAccount";
import { type ConnectBody, ConnectionForm } from "../../../features/integrations/SchemaForm";
import {
  type Connection,
  connectionListQuery,
  integrationKeys,
  type Provider,
  providersQuery,
  STATUS_COLOR,
} from "../../../features/integrations/queries";
import type { JsonSchema } from "../../../features/integrations/schema";
import { ago, dateTime } from "../../../lib/format";

/** Where the API's OAuth callback sends the browser back: /integrations?provider=…&session=…&connected=… */
interface IntegrationsSearch {
  provider?: string;
  session?: string;
  connected?: string;
  choose?: string;
  error?: string;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v ? v : undefined;
}

export const Route = createFileRoute("/_app/integrations/")({
  validateSearch: (s: Record<string, unknown>): IntegrationsSearch => ({
    provider: str(s.provider),
    session: str(s.session),
    connected: str(s.connected),
    choose: str(s.choose),
    error: str(s.error),
  }),
  component: IntegrationsPage,
});

function LastSyncCell({ c }: { c: Connection }) {
  const s = c.last_sync;
  if (!s.at) return <Text size="sm" c="dimmed">never</Text>;
  return (
    <Stack gap={2}>
      <Group gap={6}>
        <Badge size="sm" variant="light" color={STATUS_COLOR[s.status ?? ""] ?? "gray"}>
          {s.status ?? "—"}
        </Badge>
        <Text size="sm" title={dateTime(s.at)}>
          {ago(s.at)}
        </Text>
      </Group>
      {s.records !== null ? (
        <Text size="xs" c="dimmed">
          {s.records} records
        </Text>
      ) : null}
    </Stack>
  );
}

function connectionColumns(providers: Map<string, Provider>): ColumnDef<Connection>[] {
  return [
    {
      id: "display_name",
      header: "Connection",
      cell: ({ row }) => (
        <Anchor
          renderRoot={(props) => (
            <Link {...props} to="/integrations/$connectionId" params={{ connectionId: row.original.id }} />
          )}
        >
          {row.original.display_name}
        </Anchor>
      ),
    },
    {
      id: "provider",
      header: "Provider",
      cell: ({ row }) => providers.get(row.original.provider)?.display_name ?? row.original.provider,
    },
    {
      id: "status",
      header: "Status",
      cell: ({ row }) => (
        <Badge variant="light" color={STATUS_COLOR[row.original.status] ?? "gray"}>
          {row.original.status}
        </Badge>
      ),
    },
    { id: "last_sync", header: "Last sync", cell: ({ row }) => <LastSyncCell c={row.original} /> },
    {
      id: "error",
      header: "Error",
      cell: ({ row }) => {
        const text = row.original.last_sync.error ?? (row.original.status !== "active" ? row.original.status_detail : null);
        return text ? (
          <Text size="sm" c="red" lineClamp={2} title={text}>
            {text}
          </Text>
        ) : null;
      },
    },
  ];
}

function IntegrationsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const canWrite = useCan("connections:write");
  const providers = useQuery(providersQuery);
  const connections = useQuery(connectionListQuery);
  const [connecting, setConnecting] = useState<Provider | null>(null);
  const [startingOAuth, setStartingOAuth] = useState<string | null>(null);
  const [connectError, setConnectError] = useState<string | null>(null);
  const providerMap = new Map((providers.data ?? []).map((p) => [p.name, p]));

  // Back from the vendor's consent screen with a connection: open it.
  useEffect(() => {
    if (search.connected) {
      void queryClient.invalidateQueries({ queryKey: integrationKeys.connections });
      void navigate({ to: "/integrations/$connectionId", params: { connectionId: search.connected }, replace: true });
    }
  }, [search.connected, navigate, queryClient]);

  const clearLanding = () => void navigate({ search: {}, replace: true });

  const startOAuth = async (provider: Provider) => {
    setConnectError(null);
    setStartingOAuth(provider.name);
    try {
      const out = await unwrap(
        api.POST("/api/v1/connections/oauth/{provider}/start", {
          params: { path: { provider: provider.name } },
          body: { sync_interval_minutes: 60 },
        }),
      );
      window.location.assign(out.authorization_url);
    } catch (error) {
      setConnectError(`Could not connect ${provider.display_name}: ${error instanceof Error ? error.message : String(error)}`);
      setStartingOAuth(null);
    }
  };

  const create = async (body: ConnectBody) => {
    if (!connecting) return;
    const created = await unwrap(
      api.POST("/api/v1/connections", {
        body: { provider: connecting.name, ...body, credentials: body.credentials ?? {} },
      }),
    );
    await queryClient.invalidateQueries({ queryKey: integrationKeys.connections });
    notifications.show({ color: "green", message: `Connected “${created.display_name}”` });
    setConnecting(null);
    void navigate({ to: "/integrations/$connectionId", params: { connectionId: created.id } });
  };

  const landingProvider = search.provider ? (providerMap.get(search.provider)?.display_name ?? search.provider) : "";

  return (
    <>
      <PageHeader title="Integrations" />
      <Stack>
        {search.error ? (
          <Alert color="red" title={`Could not connect ${landingProvider}`} role="alert" withCloseButton onClose={clearLanding} closeButtonLabel="Dismiss">
            {search.error}
          </Alert>
        ) : null}
        {connectError ? (
          <Alert color="red" role="alert" withCloseButton onClose={() => setConnectError(null)} closeButtonLabel="Dismiss">
            {connectError}
          </Alert>
        ) : null}
        <Paper withBorder p="md">
          <Title order={2} size="h4" mb="sm">
            Connections
          </Title>
          <QueryState
            query={connections}
            isEmpty={(page) => page.total === 0}
            empty={<EmptyState title="No connections yet">Connect a system from the catalogue below.</EmptyState>}
          >
            {(page) => (
              <DataTable
                label="Connections"
                columns={connectionColumns(providerMap)}
                rows={page.items}
                getRowId={(c) => c.id}
              />
            )}
          </QueryState>
        </Paper>
        <div>
          <Title order={2} size="h4" mb="sm">
            Catalogue
          </Title>
          <QueryState query={providers} isEmpty={(list) => list.length === 0} empty={<EmptyState title="No providers available" />}>
            {(list) => (
              <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
                {list.map((p) => (
                  <Card key={p.name} withBorder padding="md" component="section" aria-label={p.display_name}>
                    <Stack gap="xs" h="100%">
                      <Group justify="space-between" wrap="nowrap">
                        <Text fw={600}>{p.display_name}</Text>
                        {p.oauth ? (
                          <Badge size="xs" variant="outline">
                            OAuth
                          </Badge>
                        ) : null}
                      </Group>
                      <Text size="sm" c="dimmed" style={{ flexGrow: 1 }}>
                        {p.description}
                      </Text>
                      {p.streams.length ? (
                        <Group gap={4}>
                          {p.streams.map((s) => (
                            <Badge key={s} size="xs" variant="light" color="gray">
                              {s}
                            </Badge>
                          ))}
                        </Group>
                      ) : null}
                      {canWrite ? (
                        <Button
                          variant="light"
                          mt="xs"
                          loading={startingOAuth === p.name}
                          onClick={() => (p.oauth ? void startOAuth(p) : setConnecting(p))}
                        >
                          Connect {p.display_name}
                        </Button>
                      ) : null}
                    </Stack>
                  </Card>
                ))}
              </SimpleGrid>
            )}
          </QueryState>
        </div>
      </Stack>
      <Modal opened={!!connecting} onClose={() => setConnecting(null)} title={`Connect ${connecting?.display_name ?? ""}`} size="lg">
        {connecting ? (
          <ConnectionForm
            configSchema={connecting.config_schema as JsonSchema}
            credentialsSchema={connecting.credentials_schema as JsonSchema}
            submitLabel="Connect"
            onSubmit={create}
            onCancel={() => setConnecting(null)}
          />
        ) : null}
      </Modal>
      {search.choose === "account" && search.session ? (
        <ChooseAccount
          sessionId={search.session}
          providerName={landingProvider}
          onClose={clearLanding}
          onConnected={(c) => {
            void queryClient.invalidateQueries({ queryKey: integrationKeys.connections });
            void navigate({ to: "/integrations/$connectionId", params: { connectionId: c.id }, replace: true });
          }}
        />
      ) : null}
    </>
  );
}
