import { queryOptions, useSuspenseQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";

export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: () => unwrap(api.GET("/api/v1/auth/me")),
  staleTime: 60_000,
});

/** The signed-in user, firm, role and permissions (loaded by the signed-in layout before any page). */
export function useMe() {
  return useSuspenseQuery(meQuery).data;
}

/** Whether the current role may do this; what it may not do is not offered (the API enforces it anyway). */
export function useCan(permission: string): boolean {
  return useMe().permissions.includes(permission);
}
