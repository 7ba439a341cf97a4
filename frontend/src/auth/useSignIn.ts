import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";

import type { Schemas } from "../api/client";
import { session } from "./session";

/** Starts a session from a token response and continues to where the user was going. */
export function useSignIn() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  return (tokens: Schemas["TokenResponse"], redirect?: string) => {
    queryClient.clear();
    session.start({
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      firm_id: tokens.firm.id,
    });
    // Only same-origin paths: a crafted ?redirect= must not send a fresh session elsewhere.
    const target = redirect && redirect.startsWith("/") && !redirect.startsWith("//") ? redirect : "/";
    void navigate({ to: target });
  };
}
