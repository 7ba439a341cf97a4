import { describe, expect, it } from "vitest";

import { auditChanges, show } from "./changes";

describe("auditChanges", () => {
  it("lists only the fields an update changed, without bookkeeping fields", () => {
    expect(
      auditChanges(
        { id: "1", name: "Acme", status: "active", tags: ["a"], updated_at: "t1", version: 1 },
        { id: "1", name: "Acme", status: "inactive", tags: ["a", "b"], updated_at: "t2", version: 2 },
      ),
    ).toEqual([
      { field: "status", before: "active", after: "inactive" },
      { field: "tags", before: ["a"], after: ["a", "b"] },
    ]);
  });

  it("lists what a create set and what a delete removed, skipping nulls", () => {
    expect(auditChanges(null, { id: "9", role: "staff", deactivated_at: null })).toEqual([
      { field: "role", before: undefined, after: "staff" },
    ]);
    expect(auditChanges({ id: "9", email: "a@b.test", phone: null }, null)).toEqual([
      { field: "email", before: "a@b.test", after: undefined },
    ]);
  });

  it("shows values as text", () => {
    expect([show(null), show("x"), show(3), show({ a: 1 }), show(undefined)]).toEqual(["—", "x", "3", '{"a":1}', ""]);
  });
});
