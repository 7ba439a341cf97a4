import { keepPreviousData, queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../../api/client";
import { type ListSearch, pageParams } from "../../lib/listSearch";

export type Invoice = Schemas["InvoiceOut"];
export type InvoiceStatus = Invoice["status"];
export type InvoiceSearch = ListSearch & { client?: string };

export const INVOICE_STATUSES: { value: InvoiceStatus; label: string }[] = [
  { value: "draft", label: "Draft" },
  { value: "sent", label: "Sent" },
  { value: "partial", label: "Partially paid" },
  { value: "paid", label: "Paid" },
  { value: "overdue", label: "Overdue" },
  { value: "void", label: "Void" },
];

export const invoiceKeys = {
  all: ["invoices"] as const,
  list: (search: InvoiceSearch) => ["invoices", "list", search] as const,
  detail: (id: string) => ["invoices", "detail", id] as const,
  allocations: (id: string) => ["invoices", "allocations", id] as const,
};

export function validateInvoiceSearch(search: Record<string, unknown>, base: ListSearch): InvoiceSearch {
  return { ...base, client: typeof search.client === "string" && search.client ? search.client : undefined };
}

export const invoiceListQuery = (search: InvoiceSearch) =>
  queryOptions({
    queryKey: invoiceKeys.list(search),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/invoices", {
          params: {
            query: {
              q: search.q,
              status: search.status as InvoiceStatus | undefined,
              client_id: search.client,
              sort: (search.sort ?? "-issue_date") as "-issue_date",
              ...pageParams(search),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const invoiceQuery = (id: string) =>
  queryOptions({
    queryKey: invoiceKeys.detail(id),
    queryFn: () => unwrap(api.GET("/api/v1/invoices/{invoice_id}", { params: { path: { invoice_id: id } } })),
  });

export const invoiceAllocationsQuery = (id: string) =>
  queryOptions({
    queryKey: invoiceKeys.allocations(id),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/invoices/{invoice_id}/allocations", {
          params: { path: { invoice_id: id }, query: { limit: 200 } },
        }),
      ),
  });

export const firmQuery = queryOptions({
  queryKey: ["firm"],
  queryFn: () => unwrap(api.GET("/api/v1/firm")),
  staleTime: 5 * 60_000,
});

/** A client's engagements, as Select options. */
export async function clientEngagements(clientId: string): Promise<{ value: string; label: string }[]> {
  const page = await unwrap(
    api.GET("/api/v1/engagements", { params: { query: { client_id: clientId, limit: 200 } } }),
  );
  return page.items.map((e) => ({ value: e.id, label: e.title }));
}

/** The ETag the API expects in If-Match for a row at this version. */
export const ifMatch = (version: number) => `"${version}"`;
