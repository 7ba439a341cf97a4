/**
 * Opening the operators' console (the Dagster UI behind nginx's auth_request, ADR 0018). A navigation
 * cannot carry the bearer token, so the API first sets a short-lived HttpOnly console cookie
 * (POST /api/v1/auth/operator-session); only then does the new tab go to the console.
 */
import type { MouseEvent } from "react";

import { notifications } from "@mantine/notifications";

import { api, unwrap } from "../../api/client";

export async function openConsole(url: string): Promise<void> {
  // Opened synchronously, inside the click, so popup blockers allow it; pointed at the console afterwards.
  const tab = window.open("", "_blank");
  try {
    await unwrap(api.POST("/api/v1/auth/operator-session"));
  } catch (error) {
    tab?.close();
    throw error;
  }
  if (tab) {
    tab.opener = null;
    tab.location.href = url;
  } else {
    window.location.assign(url);
  }
}

/** onClick for a console link: its href stays for copying, the click goes through openConsole. */
export function onConsoleClick(url: string) {
  return (event: MouseEvent) => {
    event.preventDefault();
    openConsole(url).catch((error: unknown) =>
      notifications.show({
        color: "red",
        title: "The operators' console could not be opened",
        message: error instanceof Error ? error.message : String(error),
      }),
    );
  };
}

/** Sign-out ends the console too: the API clears the console cookie (best effort; it expires anyway). */
export function closeConsole(): Promise<unknown> {
  return api.DELETE("/api/v1/auth/operator-session").catch(() => undefined);
}
