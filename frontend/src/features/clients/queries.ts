import { keepPreviousData, queryOptions } from "@tanstack/react-query";

import { api, unwrap } from "../../api/client";
import { type ListSearch, pageParams } from "../../lib/listSearch";

export const clientKeys = {
  all: ["clients"] as const,
  list: (search: ListSearch) => ["clients", "list", search] as const,
  detail: (id: string) => ["clients", "detail", id] as const,
};

export const clientListQuery = (search: ListSearch) =>
  queryOptions({
    queryKey: clientKeys.list(search),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/clients", {
          params: {
            query: {
              q: search.q,
              status: search.status as "active" | "inactive" | "terminated" | undefined,
              sort: (search.sort ?? "name") as "name",
              ...pageParams(search),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const clientQuery = (id: string) =>
  queryOptions({
    queryKey: clientKeys.detail(id),
    queryFn: () => unwrap(api.GET("/api/v1/clients/{client_id}", { params: { path: { client_id: id } } })),
  });

export const contactKeys = {
  all: ["contacts"] as const,
  ofClient: (clientId: string) => ["contacts", "client", clientId] as const,
  firm: (search: ListSearch) => ["contacts", "firm", search] as const,
};

export type ContactSort = "name" | "-name" | "created_at" | "-created_at";

/** One page of the firm's contacts (all clients), each with its client's name. */
export const firmContactsQuery = (search: ListSearch) =>
  queryOptions({
    queryKey: contactKeys.firm(search),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/contacts", {
          params: { query: { q: search.q, sort: (search.sort ?? "name") as ContactSort, ...pageParams(search) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });

export const providersQuery = queryOptions({
  queryKey: ["providers"],
  queryFn: () => unwrap(api.GET("/api/v1/providers")),
  staleTime: 10 * 60_000,
});
