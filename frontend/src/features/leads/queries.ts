import { queryOptions } from "@tanstack/react-query";

import { api, type Schemas, unwrap } from "../../api/client";

export type Lead = Schemas["LeadOut"];
export type LeadStatus = "new" | "contacted" | "qualified" | "converted" | "lost";

/** Cards per column; the column says when there are more. */
export const COLUMN_LIMIT = 50;

export const leadKeys = {
  all: ["leads"] as const,
  column: (status: LeadStatus, q: string | undefined) => ["leads", "column", status, q ?? ""] as const,
};

export const leadColumnQuery = (status: LeadStatus, q: string | undefined) =>
  queryOptions({
    queryKey: leadKeys.column(status, q),
    queryFn: () =>
      unwrap(api.GET("/api/v1/leads", { params: { query: { status, q, sort: "-score", limit: COLUMN_LIMIT } } })),
  });
