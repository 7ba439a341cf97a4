import { describe, expect, it } from "vitest";

import { lineAmountMinor, linesTotal, minorToString, parseDecimal } from "./decimal";

describe("decimal", () => {
  it("multiplies exactly and rounds half-up to cents", () => {
    expect(lineAmountMinor("3", "0.1")).toBe(30n); // a float would give 0.30000000000000004
    expect(lineAmountMinor("0.5", "0.05")).toBe(3n); // 0.025 → 0.03 (half-up)
    expect(lineAmountMinor("1.5", "0.03")).toBe(5n); // 0.045 → 0.05
    expect(lineAmountMinor("2", "abc")).toBeNull();
    expect(parseDecimal("-1")).toBeNull();
  });

  it("sums the valid lines into a decimal string", () => {
    expect(minorToString(5n)).toBe("0.05");
    expect(
      linesTotal([
        { quantity: "2", unit_price: "150.00" },
        { quantity: "1.5", unit_price: "99.99" },
        { quantity: "1", unit_price: "" },
      ]),
    ).toBe("449.99"); // 300.00 + 149.985 → 149.99
  });
});
