import { Box, Button, Group, Modal, Paper, Stack, Text, UnstyledButton } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { createFileRoute, useNavigate } from "@tanstack/react-router";
import dayjs from "dayjs";
import { useEffect, useRef, useState } from "react";

import { api, type Schemas, unwrap } from "../../../api/client";
import { useCan, useMe } from "../../../auth/me";
import { Can } from "../../../components/Can";
import { PageHeader } from "../../../components/PageHeader";
import { ErrorState, LoadingState } from "../../../components/QueryState";
import { type EventBody, EventForm } from "../../../features/calendar/EventForm";
import { addDays, layoutWeek, startOfDay, weekRange, weekStartOf } from "../../../features/calendar/weekLayout";

type CalendarSearch = { week?: string };

export const Route = createFileRoute("/_app/calendar/")({
  validateSearch: (search: Record<string, unknown>): CalendarSearch => ({
    week: typeof search.week === "string" && /^\d{4}-\d{2}-\d{2}$/.test(search.week) ? search.week : undefined,
  }),
  component: CalendarPage,
});

type CalendarEvent = Schemas["EventOut"];

const HOUR_PX = 44;
const BROWSER_TZ = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The firm's time zone (GET /firm), or the browser's when it cannot be read. */
function useFirmTimezone(): { tz: string; ready: boolean } {
  const firm = useQuery({
    queryKey: ["firm"],
    queryFn: () => unwrap(api.GET("/api/v1/firm")),
    staleTime: 5 * 60_000,
    retry: false,
  });
  return { tz: firm.data?.timezone ?? BROWSER_TZ, ready: !firm.isPending };
}

async function fetchWeek(weekStart: string, tz: string): Promise<CalendarEvent[]> {
  // The API filters on starts_at: start a week early so events running into this week (a conference that
  // began last Friday) are there too; layoutWeek drops what does not touch the week.
  const range = { ...weekRange(weekStart, tz), starts_after: weekRange(addDays(weekStart, -7), tz).starts_after };
  const items: CalendarEvent[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await unwrap(
      api.GET("/api/v1/calendar/events", { params: { query: { ...range, sort: "starts_at", limit: 200, offset } } }),
    );
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

function CalendarPage() {
  const { tz, ready } = useFirmTimezone();
  if (!ready) return <LoadingState />;
  return <WeekView tz={tz} />;
}

function WeekView({ tz }: { tz: string }) {
  const me = useMe();
  const canWrite = useCan("calendar:write");
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const queryClient = useQueryClient();
  const thisWeek = weekStartOf(new Date(), tz);
  const week = search.week ?? thisWeek;
  const [editing, setEditing] = useState<CalendarEvent | "new" | null>(null);
  const [newStart, setNewStart] = useState<string | undefined>();
  const scroller = useRef<HTMLDivElement>(null);

  const events = useQuery({
    queryKey: ["calendar", "week", week, tz],
    queryFn: () => fetchWeek(week, tz),
    placeholderData: keepPreviousData,
  });

  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 7 * HOUR_PX;
  }, []);

  const goTo = (w: string) => void navigate({ search: { week: w === thisWeek ? undefined : w } });
  const days = Array.from({ length: 7 }, (_, i) => addDays(week, i));
  const today = dayjs().tz(tz).format("YYYY-MM-DD");
  const all = events.data ?? [];
  // A day or more long: shown in the all-day strip, not as a column-high block.
  const isAllDay = (e: CalendarEvent) => dayjs(e.ends_at).diff(dayjs(e.starts_at), "hour") >= 24;
  const placed = layoutWeek(all.filter((e) => !isAllDay(e)), week, tz);
  const allDay = layoutWeek(all.filter(isAllDay), week, tz);
  const close = () => {
    setEditing(null);
    setNewStart(undefined);
  };
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["calendar"] });

  const create = async (body: EventBody) => {
    await unwrap(api.POST("/api/v1/calendar/events", { body: { ...body, staff_user_id: me.user.id } }));
    notifications.show({ color: "green", message: `“${body.title}” added` });
    await refresh();
    close();
  };
  const update = async (event: CalendarEvent, body: EventBody) => {
    await unwrap(
      api.PATCH("/api/v1/calendar/events/{event_id}", {
        params: { path: { event_id: event.id } },
        body: { ...body, version: event.version },
      }),
    );
    notifications.show({ color: "green", message: `“${body.title}” saved` });
    await refresh();
    close();
  };
  const remove = async (event: CalendarEvent) => {
    await unwrap(
      api.DELETE("/api/v1/calendar/events/{event_id}", {
        params: { path: { event_id: event.id }, header: { "if-match": `"${event.version}"` } },
      }),
    );
    notifications.show({ color: "green", message: `“${event.title}” deleted` });
    await refresh();
    close();
  };

  const fmtTime = (iso: string) => dayjs(iso).tz(tz).format("HH:mm");
  const rangeLabel = `${dayjs(week).format("D MMM")} – ${dayjs(addDays(week, 6)).format("D MMM YYYY")}`;

  return (
    <>
      <PageHeader title="Calendar">
        <Can permission="calendar:write">
          <Button onClick={() => setEditing("new")}>New event</Button>
        </Can>
      </PageHeader>
      <Group justify="space-between" mb="sm">
        <Group gap="xs">
          <Button variant="default" aria-label="Previous week" onClick={() => goTo(addDays(week, -7))}>
            ‹
          </Button>
          <Button variant="default" aria-label="Today" onClick={() => goTo(thisWeek)}>
            Today
          </Button>
          <Button variant="default" aria-label="Next week" onClick={() => goTo(addDays(week, 7))}>
            ›
          </Button>
          <Text fw={600} aria-live="polite" data-testid="week-range">
            {rangeLabel}
          </Text>
        </Group>
        <Text size="sm" c="dimmed">
          Times in {tz}
        </Text>
      </Group>

      {events.isError ? <ErrorState error={events.error} onRetry={() => void events.refetch()} /> : null}
      <Paper withBorder>
        <Box
          role="group"
          aria-label={`Week of ${rangeLabel}`}
          aria-busy={events.isFetching}
          style={{ display: "grid", gridTemplateColumns: "56px repeat(7, 1fr)", borderBottom: "1px solid var(--mantine-color-gray-3)" }}
        >
          <div style={{ display: "contents" }}>
            <div />
            {days.map((d) => (
              <Text
                key={d}
                ta="center"
                py={6}
                fw={d === today ? 700 : 500}
                c={d === today ? "blue" : undefined}
                size="sm"
              >
                {dayjs(d).format("ddd D MMM")}
              </Text>
            ))}
          </div>
        </Box>
        {allDay.length ? (
          <div style={{ display: "grid", gridTemplateColumns: "56px repeat(7, 1fr)", borderBottom: "1px solid var(--mantine-color-gray-3)" }}>
            <Text size="xs" c="dimmed" ta="right" pr={6} py={4}>
              all day
            </Text>
            {days.map((d, dayIndex) => (
              <Stack key={d} gap={2} p={2} style={{ borderLeft: "1px solid var(--mantine-color-gray-3)" }}>
                {allDay
                  .filter((p) => p.day === dayIndex)
                  .map((p) => (
                    <UnstyledButton
                      key={p.event.id}
                      aria-label={`${p.event.title}, all day ${dayjs(d).format("ddd D MMM")}`}
                      onClick={() => setEditing(p.event)}
                      style={{ background: "var(--mantine-color-teal-1)", borderRadius: 4, padding: "1px 4px" }}
                    >
                      <Text size="xs" fw={600} truncate>
                        {p.event.title}
                      </Text>
                    </UnstyledButton>
                  ))}
              </Stack>
            ))}
          </div>
        ) : null}
        {events.isPending ? <LoadingState label="Loading events…" /> : null}
        {events.isSuccess && placed.length + allDay.length === 0 ? (
          <Text c="dimmed" ta="center" size="sm" py={4}>
            No events this week.
          </Text>
        ) : null}
        <div ref={scroller} style={{ maxHeight: 620, overflowY: "auto" }}>
          <div style={{ display: "grid", gridTemplateColumns: "56px repeat(7, 1fr)", position: "relative" }}>
            <div>
              {Array.from({ length: 24 }, (_, h) => (
                <Text key={h} size="xs" c="dimmed" ta="right" pr={6} style={{ height: HOUR_PX, transform: "translateY(-6px)" }}>
                  {h === 0 ? "" : `${String(h).padStart(2, "0")}:00`}
                </Text>
              ))}
            </div>
            {days.map((d, dayIndex) => (
              <div
                key={d}
                data-day={d}
                style={{
                  position: "relative",
                  height: 24 * HOUR_PX,
                  borderLeft: "1px solid var(--mantine-color-gray-3)",
                  background: d === today ? "var(--mantine-color-blue-0)" : undefined,
                  backgroundImage:
                    "repeating-linear-gradient(to bottom, transparent 0, transparent 43px, var(--mantine-color-gray-2) 43px, var(--mantine-color-gray-2) 44px)",
                }}
                onDoubleClick={(e) => {
                  if (!canWrite || e.target !== e.currentTarget) return;
                  const y = e.nativeEvent.offsetY;
                  const minutes = Math.floor(y / HOUR_PX) * 60;
                  setNewStart(startOfDay(d, tz).add(minutes, "minute").tz(tz).format("YYYY-MM-DDTHH:mm"));
                  setEditing("new");
                }}
              >
                {placed
                  .filter((p) => p.day === dayIndex)
                  .map((p) => (
                    <UnstyledButton
                      key={`${p.event.id}-${p.day}`}
                      aria-label={`${p.event.title}, ${dayjs(d).format("ddd D MMM")} ${fmtTime(p.event.starts_at)}–${fmtTime(p.event.ends_at)}`}
                      onClick={() => setEditing(p.event)}
                      style={{
                        position: "absolute",
                        top: (p.top / 60) * HOUR_PX,
                        height: Math.max((p.height / 60) * HOUR_PX - 2, 16),
                        left: `calc(${(p.lane / p.lanes) * 100}% + 2px)`,
                        width: `calc(${100 / p.lanes}% - 4px)`,
                        background: "var(--mantine-color-blue-1)",
                        borderLeft: "3px solid var(--mantine-color-blue-6)",
                        borderRadius: 4,
                        padding: "1px 4px",
                        overflow: "hidden",
                        fontSize: 12,
                        lineHeight: 1.25,
                        display: "flex",
                        flexDirection: "column",
                        justifyContent: "flex-start",
                        textAlign: "left",
                      }}
                    >
                      <Text size="xs" fw={600} truncate>
                        {p.event.title}
                      </Text>
                      <Text size="xs" c="dimmed" truncate>
                        {fmtTime(p.event.starts_at)}–{fmtTime(p.event.ends_at)}
                        {p.event.location ? ` · ${p.event.location}` : ""}
                      </Text>
                    </UnstyledButton>
                  ))}
              </div>
            ))}
          </div>
        </div>
      </Paper>

      <Modal
        opened={editing !== null}
        onClose={close}
        title={editing === "new" ? "New event" : canWrite ? "Edit event" : "Event"}
        size="lg"
      >
        {editing === "new" ? (
          <EventForm tz={tz} defaultStart={newStart} submitLabel="Create event" onSubmit={create} onCancel={close} />
        ) : editing ? (
          canWrite ? (
            <EventForm
              key={editing.id}
              initial={editing}
              tz={tz}
              submitLabel="Save event"
              onSubmit={(body) => update(editing, body)}
              onDelete={() => remove(editing)}
              onCancel={close}
            />
          ) : (
            <EventDetails event={editing} tz={tz} />
          )
        ) : null}
      </Modal>
    </>
  );
}

function EventDetails({ event, tz }: { event: CalendarEvent; tz: string }) {
  const f = (iso: string) => dayjs(iso).tz(tz).format("ddd D MMM YYYY HH:mm");
  return (
    <Box>
      <Text fw={600}>{event.title}</Text>
      <Text size="sm">
        {f(event.starts_at)} – {f(event.ends_at)}
      </Text>
      {event.location ? <Text size="sm">{event.location}</Text> : null}
      {event.description ? (
        <Text size="sm" mt="sm" style={{ whiteSpace: "pre-wrap" }}>
          {event.description}
        </Text>
      ) : null}
    </Box>
  );
}
