import { createMemoryHistory, createRootRoute, createRouter, RouterProvider } from "@tanstack/react-router";
import { screen } from "@testing-library/react";
import userEventLib from "@testing-library/user-event";
import type { ReactElement } from "react";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../../test/render";
import { LeadCard } from "./LeadCard";
import type { Lead } from "./queries";

const userEvent = userEventLib.setup({ delay: null });
vi.setConfig({ testTimeout: 20_000 });

const LEAD: Lead = {
  id: "l1",
  name: "Jane Roe",
  company_name: "Roe Holdings",
  email: null,
  phone: null,
  source: "Referral",
  status: "contacted",
  score: 72,
  assignee_id: null,
  notes: null,
  converted_client_id: null,
  converted_at: null,
  version: 4,
  created_at: "2026-11-01T10:00:00Z",
  updated_at: "2026-11-01T10:00:00Z",
  external_refs: [],
};

/** The card links to clients: give it a router. */
function renderInRouter(ui: ReactElement) {
  const router = createRouter({
    routeTree: createRootRoute({ component: () => ui }),
    history: createMemoryHistory({ initialEntries: ["/"] }),
  });
  return renderWithProviders(<RouterProvider router={router} />);
}

describe("LeadCard", () => {
  it("moves a lead with the keyboard-usable select, offering the other settable statuses", async () => {
    const onMove = vi.fn();
    renderInRouter(<LeadCard lead={LEAD} canWrite onMove={onMove} onConvert={vi.fn()} />);
    const select = await screen.findByRole("combobox", { name: "Move Jane Roe to" });
    const options = [...(select as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(["", "new", "qualified", "lost"]);
    expect(screen.getByText("Roe Holdings")).toBeInTheDocument();
    expect(screen.getByText(/Referral/)).toBeInTheDocument();
    await userEvent.selectOptions(select, "qualified");
    expect(onMove).toHaveBeenCalledWith(LEAD, "qualified");
  });

  it("shows a converted lead as such, linked to its client and not movable", async () => {
    renderInRouter(
      <LeadCard
        lead={{ ...LEAD, status: "converted", converted_client_id: "c9" }}
        canWrite
        onMove={vi.fn()}
        onConvert={vi.fn()}
      />,
    );
    expect(await screen.findByRole("link", { name: "Open client" })).toHaveAttribute("href", "/clients/c9");
    expect(screen.getByText("Converted")).toBeInTheDocument();
    expect(screen.queryByRole("combobox")).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /convert/i })).not.toBeInTheDocument();
  });

  it("offers nothing to change to a role without leads:write", async () => {
    renderInRouter(<LeadCard lead={LEAD} canWrite={false} onMove={vi.fn()} onConvert={vi.fn()} />);
    expect(await screen.findByText("Jane Roe")).toBeInTheDocument();
    expect(screen.queryByRole("combobox")).not.toBeInTheDocument();
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });

  it("starts a conversion", async () => {
    const onConvert = vi.fn();
    renderInRouter(<LeadCard lead={LEAD} canWrite onMove={vi.fn()} onConvert={onConvert} />);
    await userEvent.click(await screen.findByRole("button", { name: "Convert Jane Roe to client" }));
    expect(onConvert).toHaveBeenCalledWith(LEAD);
  });
});
