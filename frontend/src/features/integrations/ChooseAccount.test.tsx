import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { api } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { ChooseAccount } from "./ChooseAccount";

const ok = (data: unknown, status = 200) => ({ data, error: undefined, response: new Response(null, { status }) });
const session = (status: string, extra = {}) => ({
  id: "s1",
  provider: "xero",
  status,
  accounts: [
    { id: "org-1", name: "Acme UK" },
    { id: "org-2", name: "Acme NZ" },
  ],
  connection_id: null,
  error: null,
  expires_at: "2026-12-02T18:00:00Z",
  ...extra,
});

afterEach(() => vi.restoreAllMocks());

describe("ChooseAccount", { timeout: 20_000 }, () => {
  it("lists the grant's accounts and connects the one picked", async () => {
    vi.spyOn(api, "GET").mockResolvedValue(ok(session("awaiting_account")) as never);
    const connection = { id: "c9", display_name: "Xero (Acme NZ)" };
    const post = vi.spyOn(api, "POST").mockResolvedValue(ok(connection, 201) as never);
    const onConnected = vi.fn();
    renderWithProviders(<ChooseAccount sessionId="s1" providerName="Xero" onClose={vi.fn()} onConnected={onConnected} />);

    const button = await screen.findByRole("button", { name: "Connect this account" });
    expect(button).toBeDisabled();
    await userEvent.click(screen.getByRole("radio", { name: "Acme NZ" }));
    await userEvent.click(button);
    expect(post).toHaveBeenCalledWith("/api/v1/connections/oauth/sessions/{session_id}/account", {
      params: { path: { session_id: "s1" } },
      body: { account_id: "org-2" },
    });
    expect(onConnected).toHaveBeenCalledWith(connection);
  });

  it("says so when the flow is no longer waiting for a choice", async () => {
    vi.spyOn(api, "GET").mockResolvedValue(ok(session("failed", { error: "access_denied" })) as never);
    renderWithProviders(<ChooseAccount sessionId="s1" providerName="Xero" onClose={vi.fn()} onConnected={vi.fn()} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("no longer waiting for a choice (failed: access_denied)");
    expect(screen.queryByRole("button", { name: "Connect this account" })).toBeNull();
  });
});
