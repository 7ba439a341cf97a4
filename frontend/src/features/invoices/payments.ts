import { api, type Schemas, unwrap } from "../../api/client";
import type { PaymentBody } from "./RecordPaymentForm";

export interface PaymentCalls {
  createPayment: (body: Schemas["PaymentCreate"]) => Promise<Schemas["PaymentOut"]>;
  allocate: (paymentId: string, body: Schemas["AllocationCreate"]) => Promise<Schemas["AllocationOut"]>;
}

export const apiPaymentCalls: PaymentCalls = {
  createPayment: (body) => unwrap(api.POST("/api/v1/payments", { body })),
  allocate: (paymentId, body) =>
    unwrap(api.POST("/api/v1/payments/{payment_id}/allocations", { params: { path: { payment_id: paymentId } }, body })),
};

export type PaymentOutcome =
  | { kind: "allocated"; payment: Schemas["PaymentOut"] }
  /** The payment exists but is not applied to the invoice (it sits unallocated on the client's account). */
  | { kind: "unallocated"; payment: Schemas["PaymentOut"]; error: unknown };

/**
 * Records a payment from the invoice's client in its currency and applies it to the invoice. Two calls: the
 * API has no single one. A failure to create throws (nothing stored); a failure to allocate is returned, since
 * the payment is stored and the page must say so rather than pretend nothing happened.
 */
export async function payInvoice(
  invoice: Pick<Schemas["InvoiceOut"], "id" | "client_id" | "currency">,
  body: PaymentBody,
  calls: PaymentCalls = apiPaymentCalls,
): Promise<PaymentOutcome> {
  const payment = await calls.createPayment({ ...body, client_id: invoice.client_id, currency: invoice.currency });
  try {
    await calls.allocate(payment.id, { invoice_id: invoice.id, amount: body.amount });
    return { kind: "allocated", payment };
  } catch (error) {
    return { kind: "unallocated", payment, error };
  }
}
