import { describe, expect, it, vi } from "vitest";

import { ApiError, type Schemas } from "../../api/client";
import { payInvoice } from "./payments";

const INVOICE = { id: "inv1", client_id: "c1", currency: "EUR" };
const BODY = { amount: "70.30", received_date: "2026-12-02", method: "card" as const, reference: null, notes: null };
const PAYMENT = { id: "pay1" } as Schemas["PaymentOut"];

describe("payInvoice", () => {
  it("creates the payment for the invoice's client and currency, then allocates the same amount to it", async () => {
    const calls = { createPayment: vi.fn().mockResolvedValue(PAYMENT), allocate: vi.fn().mockResolvedValue({}) };
    const outcome = await payInvoice(INVOICE, BODY, calls);
    expect(calls.createPayment).toHaveBeenCalledWith({ ...BODY, client_id: "c1", currency: "EUR" });
    expect(calls.allocate).toHaveBeenCalledWith("pay1", { invoice_id: "inv1", amount: "70.30" });
    expect(outcome.kind).toBe("allocated");
  });

  it("reports a stored but unallocated payment when the allocation fails", async () => {
    const conflict = new ApiError(409, { title: "Conflict", detail: "more than the balance due" });
    const calls = { createPayment: vi.fn().mockResolvedValue(PAYMENT), allocate: vi.fn().mockRejectedValue(conflict) };
    const outcome = await payInvoice(INVOICE, BODY, calls);
    expect(outcome).toEqual({ kind: "unallocated", payment: PAYMENT, error: conflict });
  });

  it("throws, allocating nothing, when the payment cannot be created", async () => {
    const invalid = new ApiError(422, { title: "Validation Error", errors: [{ field: "amount", message: "too big" }] });
    const calls = { createPayment: vi.fn().mockRejectedValue(invalid), allocate: vi.fn() };
    await expect(payInvoice(INVOICE, BODY, calls)).rejects.toBe(invalid);
    expect(calls.allocate).not.toHaveBeenCalled();
  });
});
