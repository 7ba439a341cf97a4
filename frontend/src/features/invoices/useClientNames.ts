import { useQueries } from "@tanstack/react-query";

import { clientQuery } from "../clients/queries";

/** Names of the clients on one page of a list (one cached GET per distinct client). */
export function useClientNames(ids: string[]): Record<string, string | undefined> {
  const unique = [...new Set(ids)];
  const results = useQueries({ queries: unique.map((id) => ({ ...clientQuery(id), staleTime: 60_000 })) });
  const out: Record<string, string | undefined> = {};
  unique.forEach((id, i) => {
    out[id] = results[i]?.data?.name;
  });
  return out;
}
