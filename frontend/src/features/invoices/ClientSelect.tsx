import { Select, type SelectProps } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { clientQuery } from "../clients/queries";
import { searchClients } from "./queries";

/** A searchable client picker fed by /api/v1/clients?q= (the list filter's; the form has its own, injectable). */
export function ClientFilter({
  value,
  onChange,
  ...props
}: { value: string | null; onChange: (value: string | null) => void } & Omit<SelectProps, "value" | "onChange" | "data">) {
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 250);
  const selected = useQuery({ ...clientQuery(value ?? ""), enabled: !!value });
  const selectedLabel = selected.data?.name;
  const results = useQuery({
    queryKey: ["clients", "options", debounced === selectedLabel ? "" : debounced],
    queryFn: () => searchClients(debounced === selectedLabel ? "" : debounced),
  });
  const data = useMemo(() => {
    const list = results.data ?? [];
    return value && selectedLabel && !list.some((o) => o.value === value)
      ? [{ value, label: selectedLabel }, ...list]
      : list;
  }, [results.data, value, selectedLabel]);
  return (
    <Select
      searchable
      clearable
      data={data}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={results.isFetching ? "Searching…" : "No client matches"}
      {...props}
    />
  );
}
