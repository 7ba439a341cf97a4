import { screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../../test/render";
import { LinkedRecords } from "./LinkedRecords";

const GET = vi.fn(async (path: string, _init?: unknown) => {
  const ok = (data: unknown) => ({ data, response: new Response(null, { status: 200 }) });
  if (path === "/api/v1/providers")
    return ok([
      { name: "quickbooks", display_name: "QuickBooks Online" },
      { name: "salesforce", display_name: "Salesforce" },
    ]);
  return ok({ id: "conn-sf", config: { instance_url: "https://acme.my.salesforce.com" } });
});

vi.mock("../../api/client", async (original) => ({
  ...(await original<typeof import("../../api/client")>()),
  api: { GET: (path: string, init?: unknown) => GET(path, init) },
}));
let canReadConnections = true;
vi.mock("../../auth/me", () => ({ useCan: () => canReadConnections }));

const refs = [
  { provider: "quickbooks", external_id: "58", connection_id: "conn-qb" },
  { provider: "salesforce", external_id: "001A", connection_id: "conn-sf" },
  { provider: "google_calendar", external_id: "evt", connection_id: "conn-g" },
];

describe("LinkedRecords", () => {
  it("names each vendor, links to its record where it can and to the connection", async () => {
    renderWithProviders(<LinkedRecords refs={refs} />);
    const qb = await screen.findByRole("link", { name: "Open in QuickBooks Online" });
    expect(qb).toHaveAttribute("href", "https://app.qbo.intuit.com/app/customerdetail?nameId=58");
    expect(await screen.findByRole("link", { name: "Open in Salesforce" })).toHaveAttribute(
      "href",
      "https://acme.my.salesforce.com/001A",
    );
    expect(screen.getByText("google_calendar")).toBeInTheDocument(); // unknown to /providers: its key
    expect(screen.getAllByText("No link")).toHaveLength(1);
    expect(screen.getByRole("link", { name: "Salesforce connection" })).toHaveAttribute("href", "/integrations/conn-sf");
  });

  it("gives Salesforce no link when the connection cannot be read", async () => {
    canReadConnections = false;
    GET.mockClear();
    renderWithProviders(<LinkedRecords refs={refs.slice(1, 2)} />);
    expect(await screen.findByText("Salesforce")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Open in Salesforce" })).toBeNull();
    expect(GET).not.toHaveBeenCalledWith("/api/v1/connections/{connection_id}", expect.anything());
  });
});
