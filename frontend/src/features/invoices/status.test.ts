import { describe, expect, it } from "vitest";

import { displayStatus } from "./status";

describe("displayStatus", () => {
  const today = "2026-12-02";
  it("shows a sent or partly paid invoice past due with a balance as overdue", () => {
    expect(displayStatus({ status: "sent", due_date: "2026-12-01", balance_due: "10.00" }, today)).toBe("overdue");
    expect(displayStatus({ status: "partial", due_date: "2026-11-01", balance_due: "0.01" }, today)).toBe("overdue");
  });
  it("keeps the stored status otherwise", () => {
    expect(displayStatus({ status: "sent", due_date: "2026-12-02", balance_due: "10.00" }, today)).toBe("sent");
    expect(displayStatus({ status: "paid", due_date: "2026-01-01", balance_due: "0.00" }, today)).toBe("paid");
    expect(displayStatus({ status: "draft", due_date: "2026-01-01", balance_due: "10.00" }, today)).toBe("draft");
    expect(displayStatus({ status: "void", due_date: "2026-01-01", balance_due: "10.00" }, today)).toBe("void");
  });
});
