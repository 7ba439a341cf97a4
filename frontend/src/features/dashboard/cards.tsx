import { Anchor, Badge, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useRouter } from "@tanstack/react-router";
import type { ReactNode } from "react";

import type { Schemas } from "../../api/client";
import { useClientNames } from "../../components/ClientPicker";
import { ago, date, dateTime, money } from "../../lib/format";

/**
 * A plain link (a real href, so it works for routes other branches add) that navigates inside the SPA on
 * an unmodified left click.
 */
export function HrefLink({ href, children, ...rest }: { href: string; children: ReactNode; "aria-label"?: string }) {
  const router = useRouter({ warn: false }) as ReturnType<typeof useRouter> | undefined;
  return (
    <Anchor
      href={href}
      onClick={(e) => {
        if (!router || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        router.history.push(href);
      }}
      {...rest}
    >
      {children}
    </Anchor>
  );
}

export function DashboardCard({
  title,
  href,
  linkLabel,
  children,
}: {
  title: string;
  href: string;
  linkLabel: string;
  children: ReactNode;
}) {
  const id = `card-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4" id={id}>
          {title}
        </Title>
        <HrefLink href={href}>{linkLabel}</HrefLink>
      </Group>
      {children}
    </Paper>
  );
}

export function OverdueInvoices({ page }: { page: Schemas["Page_InvoiceOut_"] }) {
  const clientNames = useClientNames(page.items.map((inv) => inv.client_id));
  return (
    <Stack gap="xs">
      <Text>
        <Text span fw={700} fz="xl" c="red">
          {page.total}
        </Text>{" "}
        overdue {page.total === 1 ? "invoice" : "invoices"}
      </Text>
      <Table aria-label="Oldest overdue invoices" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Invoice</Table.Th>
            <Table.Th>Client</Table.Th>
            <Table.Th>Due</Table.Th>
            <Table.Th ta="right">Balance</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {page.items.map((inv) => (
            <Table.Tr key={inv.id}>
              <Table.Td>
                <HrefLink href={`/invoices/${inv.id}`}>{inv.number}</HrefLink>
              </Table.Td>
              <Table.Td>{clientNames[inv.client_id] ?? "…"}</Table.Td>
              <Table.Td>{date(inv.due_date)}</Table.Td>
              <Table.Td ta="right">{money(inv.balance_due, inv.currency)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

export const OPEN_LEAD_STATUSES = ["new", "contacted", "qualified"] as const;

export function OpenLeads({ counts }: { counts: Record<(typeof OPEN_LEAD_STATUSES)[number], number> }) {
  const total = OPEN_LEAD_STATUSES.reduce((sum, s) => sum + counts[s], 0);
  return (
    <Stack gap="xs">
      <Text>
        <Text span fw={700} fz="xl">
          {total}
        </Text>{" "}
        open {total === 1 ? "lead" : "leads"}
      </Text>
      <Group gap="lg">
        {OPEN_LEAD_STATUSES.map((s) => (
          <HrefLink key={s} href={`/leads?status=${s}`} aria-label={`${counts[s]} ${s}`}>
            <Text span fw={600}>
              {counts[s]}
            </Text>{" "}
            {s}
          </HrefLink>
        ))}
      </Group>
    </Stack>
  );
}

export function UpcomingEvents({ page }: { page: Schemas["Page_EventOut_"] }) {
  return (
    <Stack gap="xs">
      <Text>
        <Text span fw={700} fz="xl">
          {page.total}
        </Text>{" "}
        {page.total === 1 ? "event" : "events"} in the next 7 days
      </Text>
      <Stack gap={2} component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {page.items.map((e) => (
          <Text component="li" key={e.id} size="sm">
            <Text span c="dimmed">
              {dateTime(e.starts_at)}
            </Text>{" "}
            {e.title}
            {e.location ? ` · ${e.location}` : ""}
          </Text>
        ))}
      </Stack>
    </Stack>
  );
}

const STATUS_COLOR: Record<string, string> = { active: "green", error: "red", disabled: "gray", pending: "yellow" };
const RESULT_COLOR: Record<string, string> = { success: "green", succeeded: "green", failed: "red", failure: "red", running: "blue" };

export function SyncHealth({ connections }: { connections: Schemas["ConnectionOut"][] }) {
  return (
    <Table aria-label="Connections" verticalSpacing={4}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Connection</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Last sync</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {connections.map((c) => {
          const failed = c.status === "error" || /fail|error/i.test(c.last_sync.status ?? "");
          const error = c.last_sync.error ?? (c.status === "error" ? c.status_detail : null);
          return (
            <Table.Tr key={c.id}>
              <Table.Td>
                <HrefLink href={`/integrations/${c.id}`}>{c.display_name}</HrefLink>
                <Text size="xs" c="dimmed">
                  {c.provider}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" fw={600} c={STATUS_COLOR[c.status] ?? "gray"}>
                  {c.status}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm">{ago(c.last_sync.at)}</Text>
                  {c.last_sync.status ? (
                    <Badge size="xs" color={RESULT_COLOR[c.last_sync.status] ?? (failed ? "red" : "gray")} variant="outline">
                      {c.last_sync.status}
                    </Badge>
                  ) : null}
                </Group>
                {failed && error ? (
                  <Text size="xs" c="red">
                    {error}
                  </Text>
                ) : null}
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
