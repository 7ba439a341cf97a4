import { QueryClient } from "@tanstack/react-query";
import { screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import type { Schemas } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { clientKeys } from "../clients/queries";
import { OpenLeads, OverdueInvoices, SyncHealth } from "./cards";

const connection = (over: Partial<Schemas["ConnectionOut"]>): Schemas["ConnectionOut"] => ({
  id: "c1",
  provider: "xero",
  display_name: "Xero (sandbox)",
  account_id: "acc",
  config: {},
  status: "active",
  status_detail: null,
  sync_interval_minutes: 60,
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z",
  last_sync: { at: null, status: null, records: null, error: null },
  ...over,
});

describe("SyncHealth", () => {
  it("links each connection to its page and shows a failed sync's error", () => {
    renderWithProviders(
      <SyncHealth
        connections={[
          connection({ id: "ok", last_sync: { at: new Date().toISOString(), status: "succeeded", records: 3, error: null } }),
          connection({
            id: "bad",
            provider: "quickbooks",
            display_name: "QuickBooks",
            status: "error",
            last_sync: { at: "2026-12-01T10:00:00Z", status: "failed", records: null, error: "invalid_grant: token revoked" },
          }),
        ]}
      />,
    );
    expect(screen.getByRole("link", { name: "Xero (sandbox)" })).toHaveAttribute("href", "/integrations/ok");
    const bad = screen.getByRole("row", { name: /QuickBooks/ });
    expect(within(bad).getByRole("link", { name: "QuickBooks" })).toHaveAttribute("href", "/integrations/bad");
    expect(within(bad).getByText("invalid_grant: token revoked")).toBeInTheDocument();
    expect(within(bad).getByText("failed")).toBeInTheDocument();
    // A healthy connection shows no error line.
    expect(within(screen.getByRole("row", { name: /Xero/ })).queryByText(/invalid_grant/)).toBeNull();
  });

  it("says when a connection never synced", () => {
    renderWithProviders(<SyncHealth connections={[connection({})]} />);
    expect(screen.getByText("never")).toBeInTheDocument();
  });
});

describe("OverdueInvoices", () => {
  it("shows the total and links each listed invoice to its page", () => {
    const invoice = {
      id: "i1",
      number: "INV-0042",
      client_id: "cl1",
      due_date: "2026-11-01",
      balance_due: "125.50",
      currency: "USD",
    } as Schemas["InvoiceOut"];
    // Client names come from the per-client query the rest of the app shares; the cache already has it.
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    queryClient.setQueryData(clientKeys.detail("cl1"), { id: "cl1", name: "Acme LLP" } as Schemas["ClientOut"]);
    renderWithProviders(<OverdueInvoices page={{ items: [invoice], total: 12, limit: 5, offset: 0 }} />, queryClient);
    expect(screen.getByText("12")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "INV-0042" })).toHaveAttribute("href", "/invoices/i1");
    const row = screen.getByRole("row", { name: /INV-0042/ });
    expect(within(row).getByText("Acme LLP")).toBeInTheDocument();
    expect(within(row).getByText("$125.50")).toBeInTheDocument();
  });
});

describe("OpenLeads", () => {
  it("adds up the open statuses and links each to the filtered list", () => {
    renderWithProviders(<OpenLeads counts={{ new: 4, contacted: 2, qualified: 1 }} />);
    expect(screen.getByText("7")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "2 contacted" })).toHaveAttribute("href", "/leads?status=contacted");
  });
});
