import { Autocomplete, Button, Code, Group, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import type { ColumnDef } from "@tanstack/react-table";
import dayjs from "dayjs";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { DataTable } from "../../../components/DataTable";
import { PageHeader } from "../../../components/PageHeader";
import { EmptyState, QueryState } from "../../../components/QueryState";
import { auditChanges, show } from "../../../features/audit/changes";
import { dateTime } from "../../../lib/format";
import { PAGE_SIZE } from "../../../lib/listSearch";

interface AuditSearch {
  entity?: string;
  actor?: string;
  since?: string;
  page?: number;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);

export const Route = createFileRoute("/_app/audit/")({
  validateSearch: (s: Record<string, unknown>): AuditSearch => {
    const page = Number(s.page);
    const since = str(s.since);
    return {
      entity: str(s.entity),
      actor: str(s.actor),
      since: since && /^\d{4}-\d{2}-\d{2}$/.test(since) ? since : undefined,
      page: Number.isInteger(page) && page > 1 ? page : undefined,
    };
  },
  component: AuditPage,
});

/** The audited tables (`__audit__` on core_api's models); any other name can be typed. */
const ENTITIES = [
  "calendar_event",
  "client",
  "contact",
  "document",
  "document_version",
  "engagement",
  "engagement_line",
  "firm",
  "folder",
  "invitation",
  "invoice",
  "invoice_line",
  "lead",
  "membership",
  "payment",
  "payment_allocation",
];

type Entry = Schemas["AuditEntryOut"];

function Changes({ entry }: { entry: Entry }) {
  const changes = auditChanges(entry.before, entry.after);
  if (!changes.length) return <Text size="xs" c="dimmed">—</Text>;
  return (
    <Stack gap={2}>
      {changes.slice(0, 8).map((c) => (
        <Text size="xs" key={c.field}>
          <b>{c.field}</b>:{" "}
          {entry.before && entry.after ? (
            <>
              <Code>{show(c.before)}</Code> → <Code>{show(c.after)}</Code>
            </>
          ) : (
            <Code>{show(entry.after ? c.after : c.before)}</Code>
          )}
        </Text>
      ))}
      {changes.length > 8 ? (
        <Text size="xs" c="dimmed">
          and {changes.length - 8} more
        </Text>
      ) : null}
    </Stack>
  );
}

function AuditPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const page = search.page ?? 1;
  const setSearch = (patch: Partial<AuditSearch>) =>
    void navigate({ search: (prev) => ({ ...prev, page: undefined, ...patch }) });
  const [entity, setEntity] = useState(search.entity ?? "");
  const onEntity = useDebouncedCallback((v: string) => setSearch({ entity: v.trim() || undefined }), 300);

  const members = useQuery({
    queryKey: ["team", "members", "all"],
    queryFn: () => unwrap(api.GET("/api/v1/team/members", { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
  const names = new Map((members.data?.items ?? []).map((m) => [m.user_id, m.full_name]));

  const entries = useQuery({
    queryKey: ["audit", search],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/audit-log", {
          params: {
            query: {
              entity: search.entity,
              actor_user_id: search.actor,
              since: search.since ? dayjs(search.since).startOf("day").toISOString() : undefined,
              limit: PAGE_SIZE,
              offset: (page - 1) * PAGE_SIZE,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

  const columns: ColumnDef<Entry>[] = [
    { id: "created_at", header: "When", cell: ({ row }) => dateTime(row.original.created_at) },
    {
      id: "actor",
      header: "Actor",
      cell: ({ row }) => {
        const id = row.original.actor_user_id;
        return id ? (names.get(id) ?? <Text size="xs" c="dimmed">{id}</Text>) : <Text size="sm" c="dimmed">system</Text>;
      },
    },
    { id: "action", accessorKey: "action", header: "Action" },
    { id: "entity", accessorKey: "entity", header: "Entity" },
    {
      id: "entity_id",
      header: "Entity id",
      cell: ({ row }) => (
        <Text size="xs" ff="monospace">
          {row.original.entity_id}
        </Text>
      ),
    },
    { id: "changes", header: "Changes", cell: ({ row }) => <Changes entry={row.original} /> },
  ];

  const filtered = !!(search.entity || search.actor || search.since);

  return (
    <>
      <PageHeader title="Audit log" />
      <Paper withBorder p="md">
        <Group mb="md" align="flex-end">
          <Autocomplete
            label="Entity"
            placeholder="Any entity"
            data={ENTITIES}
            value={entity}
            onChange={(v) => {
              setEntity(v);
              onEntity(v);
            }}
            w={220}
          />
          <Select
            label="Actor"
            placeholder="Anyone"
            clearable
            searchable
            data={(members.data?.items ?? []).map((m) => ({ value: m.user_id, label: m.full_name }))}
            value={search.actor ?? null}
            onChange={(v) => setSearch({ actor: v ?? undefined })}
            w={220}
          />
          <TextInput
            label="Since"
            type="date"
            value={search.since ?? ""}
            onChange={(e) => setSearch({ since: e.currentTarget.value || undefined })}
            w={180}
          />
          {filtered ? (
            <Button variant="subtle" onClick={() => {
                setEntity("");
                void navigate({ search: {} });
              }}>
              Clear filters
            </Button>
          ) : null}
        </Group>
        <QueryState
          query={entries}
          isEmpty={(p) => p.total === 0}
          empty={<EmptyState title={filtered ? "No entry matches" : "No audit entries yet"} />}
        >
          {(p) => (
            <DataTable
              label="Audit log"
              columns={columns}
              rows={p.items}
              getRowId={(e) => String(e.id)}
              total={p.total}
              page={page}
              pageSize={PAGE_SIZE}
              onPageChange={(n) => void navigate({ search: (prev) => ({ ...prev, page: n }) })}
            />
          )}
        </QueryState>
      </Paper>
    </>
  );
}
