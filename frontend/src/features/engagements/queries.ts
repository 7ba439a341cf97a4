import { keepPreviousData, queryOptions } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import { type ListSearch, pageParams } from "../../lib/listSearch";

export type EngagementStatus = "draft" | "active" | "completed" | "cancelled";
export type EngagementSort =
  | "title"
  | "-title"
  | "start_date"
  | "-start_date"
  | "created_at"
  | "-created_at"
  | "updated_at"
  | "-updated_at";

export const ENGAGEMENT_STATUSES: { value: EngagementStatus; label: string }[] = [
  { value: "draft", label: "Draft" },
  { value: "active", label: "Active" },
  { value: "completed", label: "Completed" },
  { value: "cancelled", label: "Cancelled" },
];

export const PRICING_MODES = [
  { value: "fixed", label: "Fixed fee" },
  { value: "hourly", label: "Hourly" },
  { value: "retainer", label: "Retainer" },
];

export interface EngagementSearch extends ListSearch {
  client?: string;
}

export const engagementKeys = {
  all: ["engagements"] as const,
  list: (search: EngagementSearch) => ["engagements", "list", search] as const,
};

export const engagementListQuery = (search: EngagementSearch) =>
  queryOptions({
    queryKey: engagementKeys.list(search),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/engagements", {
          params: {
            query: {
              q: search.q,
              status: search.status as EngagementStatus | undefined,
              client_id: search.client,
              sort: (search.sort ?? "-created_at") as EngagementSort,
              ...pageParams(search),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
