import { Select } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { useState } from "react";

import { api, type Schemas, unwrap } from "../api/client";
import { clientQuery } from "../features/clients/queries";

/** The one client picker and client-name lookup every form and list uses. */
export type ClientOption = { value: string; label: string };

export async function searchClients(q: string): Promise<ClientOption[]> {
  const page = await unwrap(api.GET("/api/v1/clients", { params: { query: { q: q || undefined, limit: 20, sort: "name" } } }));
  return clientOptions(page.items);
}

/** Options for clients; clients sharing a name are told apart by city (or email). */
export function clientOptions(clients: Pick<Schemas["ClientOut"], "id" | "name" | "city" | "email">[]): ClientOption[] {
  const count = new Map<string, number>();
  for (const c of clients) count.set(c.name, (count.get(c.name) ?? 0) + 1);
  return clients.map((c) => ({
    value: c.id,
    label: (count.get(c.name) ?? 0) > 1 ? `${c.name} (${c.city ?? c.email ?? c.id.slice(0, 8)})` : c.name,
  }));
}

/** A searchable client picker fed by /api/v1/clients?q= (debounced). */
export function ClientPicker({
  label,
  ariaLabel,
  value,
  onChange,
  selected,
  loadClients = searchClients,
  error,
  required,
  disabled,
  clearable,
  placeholder,
  w,
}: {
  label?: string;
  /** For a picker without a visible label (a list filter). */
  ariaLabel?: string;
  value: string | null;
  onChange: (value: string | null) => void;
  /** The current choice's option, so its name shows before any search. */
  selected?: ClientOption | null;
  loadClients?: (q: string) => Promise<ClientOption[]>;
  error?: ReactNode;
  required?: boolean;
  disabled?: boolean;
  clearable?: boolean;
  placeholder?: string;
  w?: number;
}) {
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const [picked, setPicked] = useState<ClientOption | null>(selected ?? null);
  const options = useQuery({
    queryKey: ["clients", "picker", debounced],
    queryFn: () => loadClients(debounced),
    enabled: !disabled,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });
  // The current choice's name before any search: what was picked here, what the caller knows, or the API's.
  const known = picked?.value === value ? picked : selected?.value === value ? selected : null;
  const fetched = useQuery({ ...clientQuery(value ?? ""), enabled: !!value && !known });
  const current = known ?? (value && fetched.data ? { value, label: fetched.data.name } : null);
  const data = [...(options.data ?? [])];
  if (current && !data.some((o) => o.value === current.value)) data.unshift(current);
  return (
    <Select
      label={label}
      aria-label={label ? undefined : ariaLabel}
      placeholder={placeholder ?? "Search clients"}
      searchable
      clearable={clearable}
      required={required}
      disabled={disabled}
      data={data}
      value={value}
      onChange={(v, option) => {
        setPicked(option ? { value: option.value, label: option.label } : null);
        onChange(v);
      }}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: o }) => o}
      nothingFoundMessage={options.isFetching ? "Searching…" : "No client found"}
      error={error}
      w={w}
    />
  );
}


/** Names of the clients on one page of a list (one cached GET per distinct client, shared across pages). */
export function useClientNames(ids: (string | null | undefined)[]): Record<string, string | undefined> {
  const unique = [...new Set(ids.filter((id): id is string => !!id))];
  const results = useQueries({ queries: unique.map((id) => ({ ...clientQuery(id), staleTime: 60_000 })) });
  const out: Record<string, string | undefined> = {};
  unique.forEach((id, i) => {
    out[id] = results[i]?.data?.name;
  });
  return out;
}
