import { Select, type SelectProps } from "@mantine/core";
import { queryOptions, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";

/** The firm's clients by name (the first 200): the picker's options and a name lookup for tables. */
export const clientOptionsQuery = queryOptions({
  queryKey: ["clients", "options"],
  queryFn: () => unwrap(api.GET("/api/v1/clients", { params: { query: { sort: "name", limit: 200 } } })),
  staleTime: 60_000,
});

export function useClientNames(): Map<string, string> {
  const { data } = useQuery(clientOptionsQuery);
  return new Map((data?.items ?? []).map((c) => [c.id, c.name]));
}

/** A searchable client picker (value = client id, "" / null = none). */
export function ClientSelect(props: Omit<SelectProps, "data">) {
  const clients = useQuery(clientOptionsQuery);
  return (
    <Select
      label="Client"
      placeholder={clients.isPending ? "Loading clients…" : "No client"}
      searchable
      clearable
      nothingFoundMessage="No client matches"
      data={(clients.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))}
      error={clients.isError ? "Could not load clients" : undefined}
      {...props}
    />
  );
}
