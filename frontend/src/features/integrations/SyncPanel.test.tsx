import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { api } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { SyncPanel } from "./SyncPanel";

const request = {
  id: "r1",
  connection_id: "c1",
  full_refresh: true,
  status: "pending",
  run_id: null,
  records: null,
  error: null,
  created_at: "2026-12-02T00:00:00Z",
  started_at: null,
  finished_at: null,
};

const ok = (data: unknown, status = 200) => ({ data, error: undefined, response: new Response(null, { status }) });

afterEach(() => vi.restoreAllMocks());

describe("SyncPanel", { timeout: 20_000 }, () => {
  it("queues a full refresh, polls the request until it fails, shows its error and run link, then reports", async () => {
    const post = vi.spyOn(api, "POST").mockResolvedValue(ok(request, 202) as never);
    const get = vi
      .spyOn(api, "GET")
      .mockResolvedValueOnce(ok({ ...request, status: "running" }) as never)
      .mockResolvedValue(ok({ ...request, status: "failed", records: 3, error: "401 from vendor", run_id: "run-9" }) as never);
    const onFinished = vi.fn();
    renderWithProviders(<SyncPanel connectionId="c1" dagster="https://dagster.test/" onFinished={onFinished} />);

    await userEvent.click(screen.getByLabelText(/Full refresh/));
    await userEvent.click(screen.getByRole("button", { name: "Sync now" }));
    expect(post).toHaveBeenCalledWith("/api/v1/connections/{connection_id}/sync", {
      params: { path: { connection_id: "c1" } },
      body: { full_refresh: true },
    });
    expect(await screen.findByTestId("sync-request-status")).toHaveTextContent(/pending|running/);
    expect(screen.getByRole("button", { name: "Sync now" })).toBeDisabled();

    // A later poll (every 2 s) finds it failed.
    expect(await screen.findByTestId("sync-request-error", {}, { timeout: 5000 })).toHaveTextContent("401 from vendor");
    expect(get).toHaveBeenCalledTimes(2);
    expect(get).toHaveBeenCalledWith("/api/v1/sync-requests/{request_id}", { params: { path: { request_id: "r1" } } });
    expect(screen.getByTestId("sync-request-status")).toHaveTextContent("failed");
    expect(screen.getByTestId("sync-request-records")).toHaveTextContent("3 records");
    expect(screen.getByRole("link", { name: "Open run in Dagster" })).toHaveAttribute("href", "https://dagster.test/runs/run-9");
    expect(onFinished).toHaveBeenCalledOnce();
    expect(screen.getByRole("button", { name: "Sync now" })).toBeEnabled();
  });

  it("shows the API's refusal", async () => {
    vi.spyOn(api, "POST").mockResolvedValue({
      data: undefined,
      error: { title: "Conflict", status: 409, detail: "A sync is already running." },
      response: new Response(null, { status: 409 }),
    } as never);
    renderWithProviders(<SyncPanel connectionId="c1" dagster={null} onFinished={vi.fn()} />);
    await userEvent.click(screen.getByRole("button", { name: "Sync now" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("A sync is already running.");
  });
});
