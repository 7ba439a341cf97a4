import { describe, expect, it } from "vitest";

import { compareDecimal, formatScaled, invoiceTotals, parseDecimal, priceLine } from "./totals";

describe("parseDecimal", () => {
  it("reads plain decimals at 4 places", () => {
    expect(parseDecimal("12.5")).toBe(BigInt(125000));
    expect(parseDecimal(" 0.0001 ")).toBe(BigInt(1));
    expect(parseDecimal(".5")).toBe(BigInt(5000));
    expect(parseDecimal("3.")).toBe(BigInt(30000));
  });
  it("refuses what the API would refuse", () => {
    for (const bad of ["", ".", "-1", "1e3", "1,000", "abc", "1.23456"]) expect(parseDecimal(bad)).toBeNull();
  });
});

describe("formatScaled", () => {
  it("pads the fraction and the whole part", () => {
    expect(formatScaled(BigInt(5), 2)).toBe("0.05");
    expect(formatScaled(BigInt(123450), 2)).toBe("1234.50");
    expect(formatScaled(BigInt(7), 0)).toBe("7");
  });
});

describe("invoice totals", () => {
  it("has no float drift: 0.1 + 0.2 is 0.30", () => {
    const t = invoiceTotals(
      [
        { quantity: "1", unit_price: "0.1" },
        { quantity: "1", unit_price: "0.2" },
      ],
      "USD",
    );
    expect(t.subtotal).toBe("0.30");
    expect(t.total).toBe("0.30");
  });

  it("rounds each line half-up to cents, then sums the rounded lines", () => {
    // 3 × 0.335 = 1.005 → 1.01 (a float would give 1.00499… → 1.00)
    expect(priceLine({ quantity: "3", unit_price: "0.335" }, "USD").amount).toBe(BigInt(101));
    const t = invoiceTotals(
      [
        { quantity: "3", unit_price: "0.335" },
        { quantity: "3", unit_price: "0.335" },
      ],
      "USD",
    );
    expect(t.lines.map((l) => l.amount)).toEqual(["1.01", "1.01"]);
    expect(t.subtotal).toBe("2.02");
  });

  it("computes tax per line from the rounded amount", () => {
    const t = invoiceTotals(
      [
        { quantity: "2", unit_price: "10.99", tax_rate: "20" }, // 21.98, tax 4.396 → 4.40
        { quantity: "1.5", unit_price: "100", tax_rate: "" }, // 150.00, no tax
        { quantity: "1", unit_price: "9.99", tax_rate: "7.25" }, // 9.99, tax 0.724275 → 0.72
      ],
      "USD",
    );
    expect(t.lines).toEqual([
      { amount: "21.98", tax: "4.40" },
      { amount: "150.00", tax: "0.00" },
      { amount: "9.99", tax: "0.72" },
    ]);
    expect(t.subtotal).toBe("181.97");
    expect(t.tax).toBe("5.12");
    expect(t.total).toBe("187.09");
  });

  it("uses the currency's minor unit", () => {
    expect(invoiceTotals([{ quantity: "3", unit_price: "33.5" }], "JPY").total).toBe("101");
    expect(invoiceTotals([{ quantity: "1", unit_price: "1.0005" }], "KWD").total).toBe("1.001");
  });

  it("handles large amounts exactly", () => {
    const t = invoiceTotals([{ quantity: "1000000", unit_price: "99999999.9999" }], "USD");
    expect(t.total).toBe("99999999999900.00");
  });

  it("leaves lines being typed out of the sum instead of failing", () => {
    const t = invoiceTotals(
      [
        { quantity: "2", unit_price: "" },
        { quantity: "1", unit_price: "5" },
      ],
      "USD",
    );
    expect(t.lines[0].amount).toBeNull();
    expect(t.total).toBe("5.00");
  });
});

describe("compareDecimal", () => {
  it("compares exactly", () => {
    expect(compareDecimal("100.10", "100.1")).toBe(0);
    expect(compareDecimal("100.11", "100.1")).toBe(1);
    expect(compareDecimal("x", "1")).toBeNull();
  });
});
