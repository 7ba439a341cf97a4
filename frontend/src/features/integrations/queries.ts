import { queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../../api/client";

export type Provider = Schemas["ProviderOut"];
export type Connection = Schemas["ConnectionOut"];
export type SyncRequest = Schemas["SyncRequestOut"];

export const integrationKeys = {
  providers: ["providers"] as const,
  connections: ["connections"] as const,
  connectionList: ["connections", "list"] as const,
  connection: (id: string) => ["connections", "detail", id] as const,
  mapping: (id: string) => ["connections", "mapping", id] as const,
  deadLetters: (id: string) => ["connections", "dead-letters", id] as const,
  conflicts: (id: string, page: number) => ["connections", "conflicts", id, page] as const,
  syncRequest: (id: string) => ["sync-requests", id] as const,
};

export const providersQuery = queryOptions({
  queryKey: integrationKeys.providers,
  queryFn: () => unwrap(api.GET("/api/v1/providers")),
  staleTime: 5 * 60_000,
});

export const connectionListQuery = queryOptions({
  queryKey: integrationKeys.connectionList,
  queryFn: () => unwrap(api.GET("/api/v1/connections", { params: { query: { limit: 200 } } })),
});

export const connectionQuery = (id: string) =>
  queryOptions({
    queryKey: integrationKeys.connection(id),
    queryFn: () => unwrap(api.GET("/api/v1/connections/{connection_id}", { params: { path: { connection_id: id } } })),
  });

export const FINISHED = new Set(["succeeded", "failed"]);

export const syncRequestQuery = (id: string) =>
  queryOptions({
    queryKey: integrationKeys.syncRequest(id),
    queryFn: () => unwrap(api.GET("/api/v1/sync-requests/{request_id}", { params: { path: { request_id: id } } })),
    // Poll every 2 s until the sync has finished.
    refetchInterval: (q) => (q.state.data && FINISHED.has(q.state.data.status) ? false : 2000),
  });

export const STATUS_COLOR: Record<string, string> = {
  active: "green",
  succeeded: "green",
  running: "blue",
  queued: "blue",
  pending: "gray",
  paused: "gray",
  disabled: "gray",
  error: "red",
  failed: "red",
  needs_reauth: "orange",
};

/** Dagster asset groups (pipelines/assets/*.py `group=`): one per provider whose data is synced. */
export const ASSET_GROUPS = new Set([
  "active_directory",
  "google_calendar",
  "microsoft_calendar",
  "quickbooks",
  "salesforce",
  "stripe",
  "xero",
]);

export function dagsterAssetsUrl(base: string, provider: string): string {
  const root = base.replace(/\/$/, "");
  return ASSET_GROUPS.has(provider)
    ? `${root}/locations/__repository__@firmsync/asset-groups/${provider}`
    : `${root}/asset-groups`;
}

export function dagsterRunUrl(base: string, runId: string): string {
  return `${base.replace(/\/$/, "")}/runs/${runId}`;
}
