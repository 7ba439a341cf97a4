import { describe, expect, it } from "vitest";

import { addDays, layoutWeek, weekRange, weekStartOf } from "./weekLayout";

const NY = "America/New_York";
const ev = (id: string, starts_at: string, ends_at: string) => ({ id, starts_at, ends_at });
const byId = <T extends { event: { id: string } }>(placed: T[], id: string) => placed.filter((p) => p.event.id === id);

describe("week boundaries", () => {
  it("starts weeks on Monday in the zone, not in UTC", () => {
    // Monday 03:00 UTC is still Sunday evening in New York.
    expect(weekStartOf("2026-12-07T03:00:00Z", NY)).toBe("2026-11-30");
    expect(weekStartOf("2026-12-07T15:00:00Z", NY)).toBe("2026-12-07");
    expect(weekStartOf("2026-12-13T23:00:00Z", "UTC")).toBe("2026-12-07");
  });

  it("asks the API for Monday 00:00 to next Monday 00:00 in the zone", () => {
    expect(weekRange("2026-12-07", NY)).toEqual({
      starts_after: "2026-12-07T05:00:00.000Z",
      starts_before: "2026-12-14T05:00:00.000Z",
    });
    expect(addDays("2026-12-28", 7)).toBe("2027-01-04");
  });
});

describe("layoutWeek", () => {
  it("places an event in its day column at its wall-clock time in the zone", () => {
    // 14:30–16:00 UTC on Wednesday = 09:30–11:00 in New York.
    const [p] = layoutWeek([ev("a", "2026-12-09T14:30:00Z", "2026-12-09T16:00:00Z")], "2026-12-07", NY);
    expect(p).toMatchObject({ day: 2, top: 9 * 60 + 30, height: 90, lane: 0, lanes: 1 });
  });

  it("puts overlapping events side by side and leaves the others full width", () => {
    const placed = layoutWeek(
      [
        ev("a", "2026-12-07T09:00:00Z", "2026-12-07T10:00:00Z"),
        ev("b", "2026-12-07T09:30:00Z", "2026-12-07T11:00:00Z"),
        ev("c", "2026-12-07T10:00:00Z", "2026-12-07T10:30:00Z"), // overlaps b only: reuses a's lane
        ev("d", "2026-12-07T12:00:00Z", "2026-12-07T13:00:00Z"),
      ],
      "2026-12-07",
      "UTC",
    );
    expect(byId(placed, "a")[0]).toMatchObject({ lane: 0, lanes: 2 });
    expect(byId(placed, "b")[0]).toMatchObject({ lane: 1, lanes: 2 });
    expect(byId(placed, "c")[0]).toMatchObject({ lane: 0, lanes: 2 });
    expect(byId(placed, "d")[0]).toMatchObject({ lane: 0, lanes: 1 });
  });

  it("splits an event over midnight into two day segments", () => {
    const placed = layoutWeek([ev("late", "2026-12-08T22:00:00Z", "2026-12-09T02:00:00Z")], "2026-12-07", "UTC");
    expect(placed.map((p) => [p.day, p.top, p.height, p.continuesBefore, p.continuesAfter])).toEqual([
      [1, 22 * 60, 120, false, true],
      [2, 0, 120, true, false],
    ]);
  });

  it("gives short events a minimum height and ignores events outside the week", () => {
    const placed = layoutWeek(
      [
        ev("tiny", "2026-12-07T08:00:00Z", "2026-12-07T08:05:00Z"),
        ev("next-week", "2026-12-14T08:00:00Z", "2026-12-14T09:00:00Z"),
      ],
      "2026-12-07",
      "UTC",
    );
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ day: 0, top: 480, height: 15 });
  });

  it("keeps wall-clock positions across a DST change (New York, 8 Mar 2026)", () => {
    // 10:00 EDT on Sunday 8 March (after clocks went forward at 02:00) = 14:00 UTC.
    const [p] = layoutWeek([ev("x", "2026-03-08T14:00:00Z", "2026-03-08T15:00:00Z")], "2026-03-02", NY);
    expect(p).toMatchObject({ day: 6, top: 600, height: 60 });
  });
});
