/**
 * Week-view geometry, pure: which day column an event falls in, its top offset and height in minutes of
 * wall-clock time in the firm's time zone, and side-by-side lanes for events that overlap.
 * Events crossing midnight are split into one segment per day they touch.
 */
import dayjs, { type Dayjs } from "dayjs";
import timezone from "dayjs/plugin/timezone";
import utc from "dayjs/plugin/utc";

dayjs.extend(utc);
dayjs.extend(timezone);

export const MINUTES_PER_DAY = 24 * 60;

export interface TimedEvent {
  id: string;
  starts_at: string;
  ends_at: string;
}

export interface Placed<E extends TimedEvent> {
  event: E;
  /** 0 = Monday … 6 = Sunday. */
  day: number;
  /** Minutes after midnight (wall clock in the zone). */
  top: number;
  /** Minutes, at least `minHeight`. */
  height: number;
  /** 0-based lane among the events it overlaps, and the number of lanes they share. */
  lane: number;
  lanes: number;
  /** The event started on an earlier day / ends on a later day than this segment shows. */
  continuesBefore: boolean;
  continuesAfter: boolean;
}

/** "YYYY-MM-DD" + n days, by calendar arithmetic (no time zone involved). */
export function addDays(isoDate: string, n: number): string {
  return dayjs.utc(isoDate).add(n, "day").format("YYYY-MM-DD");
}

/** The Monday (YYYY-MM-DD) of the week holding `instant` as seen in `tz`. */
export function weekStartOf(instant: Date | string | Dayjs, tz: string): string {
  const local = dayjs(instant).tz(tz);
  const isoDay = (local.day() + 6) % 7; // Monday = 0
  return addDays(local.format("YYYY-MM-DD"), -isoDay);
}

/** Midnight of a calendar date in `tz`, as an instant. */
export function startOfDay(isoDate: string, tz: string): Dayjs {
  return dayjs.tz(`${isoDate} 00:00`, "YYYY-MM-DD HH:mm", tz);
}

/** The API window for the week: [Monday 00:00, next Monday 00:00) in `tz`, as ISO instants. */
export function weekRange(weekStart: string, tz: string): { starts_after: string; starts_before: string } {
  return {
    starts_after: startOfDay(weekStart, tz).toISOString(),
    starts_before: startOfDay(addDays(weekStart, 7), tz).toISOString(),
  };
}

function wallMinutes(instant: Dayjs, tz: string): number {
  const local = instant.tz(tz);
  return local.hour() * 60 + local.minute();
}

export function layoutWeek<E extends TimedEvent>(
  events: E[],
  weekStart: string,
  tz: string,
  minHeight = 15,
): Placed<E>[] {
  const bounds = Array.from({ length: 8 }, (_, i) => startOfDay(addDays(weekStart, i), tz));
  const byDay: Placed<E>[][] = Array.from({ length: 7 }, () => []);

  for (const event of events) {
    const start = dayjs(event.starts_at);
    const end = dayjs(event.ends_at);
    for (let day = 0; day < 7; day++) {
      const dayStart = bounds[day];
      const dayEnd = bounds[day + 1];
      // Zero-length events still show on the day they start.
      const touches = start.isBefore(dayEnd) && (end.isAfter(dayStart) || (end.isSame(start) && !start.isBefore(dayStart)));
      if (!touches) continue;
      const continuesBefore = start.isBefore(dayStart);
      const continuesAfter = end.isAfter(dayEnd);
      const top = continuesBefore ? 0 : wallMinutes(start, tz);
      const bottom = continuesAfter || !end.isBefore(dayEnd) ? MINUTES_PER_DAY : wallMinutes(end, tz);
      const height = Math.max(bottom - top, minHeight);
      byDay[day].push({ event, day, top: Math.min(top, MINUTES_PER_DAY - minHeight), height, lane: 0, lanes: 1, continuesBefore, continuesAfter });
    }
  }

  for (const segments of byDay) assignLanes(segments);
  return byDay.flat();
}

/** Greedy lanes within clusters of (transitively) overlapping segments; a cluster shares its lane count. */
function assignLanes<E extends TimedEvent>(segments: Placed<E>[]): void {
  segments.sort((a, b) => a.top - b.top || b.height - a.height || a.event.id.localeCompare(b.event.id));
  let cluster: Placed<E>[] = [];
  let laneEnds: number[] = [];
  let clusterEnd = -1;
  const close = () => {
    for (const s of cluster) s.lanes = laneEnds.length;
    cluster = [];
    laneEnds = [];
  };
  for (const s of segments) {
    if (s.top >= clusterEnd) close();
    let lane = laneEnds.findIndex((end) => end <= s.top);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(0);
    }
    laneEnds[lane] = s.top + s.height;
    s.lane = lane;
    cluster.push(s);
    clusterEnd = Math.max(clusterEnd, s.top + s.height);
  }
  close();
}
