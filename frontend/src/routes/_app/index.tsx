import { SimpleGrid } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import dayjs from "dayjs";

import { api, unwrap } from "../../api/client";
import { Can } from "../../components/Can";
import { PageHeader } from "../../components/PageHeader";
import { EmptyState, QueryState } from "../../components/QueryState";
import {
  DashboardCard,
  OPEN_LEAD_STATUSES,
  OpenLeads,
  OverdueInvoices,
  SyncHealth,
  UpcomingEvents,
} from "../../features/dashboard/cards";

export const Route = createFileRoute("/_app/")({
  component: Dashboard,
});

function Dashboard() {
  return (
    <>
      <PageHeader title="Dashboard" />
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
        <Can permission="invoices:read">
          <OverdueCard />
        </Can>
        <Can permission="leads:read">
          <LeadsCard />
        </Can>
        <Can permission="calendar:read">
          <EventsCard />
        </Can>
        <Can permission="connections:read">
          <SyncCard />
        </Can>
      </SimpleGrid>
    </>
  );
}

function OverdueCard() {
  const yesterday = dayjs().subtract(1, "day").format("YYYY-MM-DD");
  const query = useQuery({
    queryKey: ["dashboard", "overdue", yesterday],
    // status=overdue: sent or partially paid and past due (in the firm's zone), oldest due first.
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/invoices", {
          params: { query: { status: "overdue", due_date_to: yesterday, sort: "due_date", limit: 5 } },
        }),
      ),
  });
  return (
    <DashboardCard title="Overdue invoices" href="/invoices?status=overdue" linkLabel="All overdue invoices">
      <QueryState query={query} isEmpty={(p) => p.total === 0} empty={<EmptyState title="No overdue invoices" />}>
        {(page) => <OverdueInvoices page={page} />}
      </QueryState>
    </DashboardCard>
  );
}

function LeadsCard() {
  const query = useQuery({
    queryKey: ["dashboard", "leads"],
    queryFn: async () => {
      const totals = await Promise.all(
        OPEN_LEAD_STATUSES.map((status) =>
          unwrap(api.GET("/api/v1/leads", { params: { query: { status, limit: 1 } } })).then((p) => p.total),
        ),
      );
      return Object.fromEntries(OPEN_LEAD_STATUSES.map((s, i) => [s, totals[i]])) as Record<
        (typeof OPEN_LEAD_STATUSES)[number],
        number
      >;
    },
  });
  return (
    <DashboardCard title="Open leads" href="/leads" linkLabel="All leads">
      <QueryState
        query={query}
        isEmpty={(counts) => OPEN_LEAD_STATUSES.every((s) => counts[s] === 0)}
        empty={<EmptyState title="No open leads" />}
      >
        {(counts) => <OpenLeads counts={counts} />}
      </QueryState>
    </DashboardCard>
  );
}

function EventsCard() {
  const query = useQuery({
    queryKey: ["dashboard", "events"],
    queryFn: () => {
      const now = dayjs();
      return unwrap(
        api.GET("/api/v1/calendar/events", {
          params: {
            query: {
              starts_after: now.toISOString(),
              starts_before: now.add(7, "day").toISOString(),
              sort: "starts_at",
              limit: 5,
            },
          },
        }),
      );
    },
  });
  return (
    <DashboardCard title="Upcoming events" href="/calendar" linkLabel="Open calendar">
      <QueryState query={query} isEmpty={(p) => p.total === 0} empty={<EmptyState title="Nothing in the next 7 days" />}>
        {(page) => <UpcomingEvents page={page} />}
      </QueryState>
    </DashboardCard>
  );
}

function SyncCard() {
  const query = useQuery({
    queryKey: ["dashboard", "connections"],
    queryFn: () => unwrap(api.GET("/api/v1/connections", { params: { query: { limit: 200 } } })),
    refetchInterval: 60_000,
  });
  return (
    <DashboardCard title="Sync health" href="/integrations" linkLabel="All integrations">
      <QueryState
        query={query}
        isEmpty={(p) => p.items.length === 0}
        empty={<EmptyState title="No integrations connected">Connect one under Integrations.</EmptyState>}
      >
        {(page) => <SyncHealth connections={page.items} />}
      </QueryState>
    </DashboardCard>
  );
}
