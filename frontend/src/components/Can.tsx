import type { ReactNode } from "react";

import { useCan } from "../auth/me";

/** Renders its children only for roles holding `permission`. */
export function Can({ permission, children }: { permission: string; children: ReactNode }) {
  return useCan(permission) ? <>{children}</> : null;
}
