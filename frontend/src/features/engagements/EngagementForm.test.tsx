import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError, type Schemas } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { clientOptions } from "../../components/ClientPicker";
import { EngagementForm } from "./EngagementForm";

const loadClients = vi.fn(async (q: string) =>
  [
    { value: "c-acme", label: "Acme LLP" },
    { value: "c-birch", label: "Birch & Co" },
  ].filter((o) => o.label.toLowerCase().includes(q.toLowerCase())),
);

const existing: Schemas["EngagementOut"] = {
  id: "e1",
  client_id: "c-acme",
  title: "2026 audit",
  description: null,
  status: "active",
  pricing_mode: "fixed",
  currency: "USD",
  fixed_fee: "5000.00",
  hourly_rate: null,
  retainer_amount: null,
  start_date: "2026-01-01",
  end_date: null,
  lines_total: "300.00",
  lines: [{ id: "l1", position: 1, description: "Fieldwork", quantity: "2", unit_price: "150.00", amount: "300.00" }],
  version: 3,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

describe("EngagementForm", () => {
  it("picks a client by search and sends only the chosen mode's fee, with the lines", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<EngagementForm submitLabel="Create engagement" onSubmit={onSubmit} loadClients={loadClients} />);
    await userEvent.type(screen.getByLabelText(/^Client/, { selector: "input" }), "bir");
    // The list is the server's answer to the search (loadClients is asked with the typed text).
    const clientOptions = () =>
      within(screen.getByRole("listbox", { name: /^Client/, hidden: true })).queryAllByRole("option", { hidden: true });
    await waitFor(() => expect(clientOptions().map((o) => o.textContent)).toEqual(["Birch & Co"]));
    expect(loadClients).toHaveBeenCalledWith("bir");
    await userEvent.click(clientOptions()[0]);
    await userEvent.type(screen.getByLabelText(/^Title/), "Tax return");
    await userEvent.click(screen.getByLabelText("Pricing", { selector: "input" }));
    await userEvent.click(await screen.findByRole("option", { name: "Hourly", hidden: true }));
    await userEvent.type(screen.getByLabelText(/^Hourly rate/), "180");
    await userEvent.click(screen.getByRole("button", { name: "Add line" }));
    await userEvent.type(screen.getByLabelText("Line 1 description"), "Prep");
    await userEvent.clear(screen.getByLabelText("Line 1 quantity"));
    await userEvent.type(screen.getByLabelText("Line 1 quantity"), "2.5");
    await userEvent.type(screen.getByLabelText("Line 1 unit price"), "100");
    await userEvent.click(screen.getByRole("button", { name: "Create engagement" }));

    expect(onSubmit).toHaveBeenCalledOnce();
    expect(onSubmit.mock.calls[0][0]).toEqual({
      client_id: "c-birch",
      title: "Tax return",
      description: null,
      status: "draft",
      pricing_mode: "hourly",
      fixed_fee: null,
      hourly_rate: "180",
      retainer_amount: null,
      start_date: null,
      end_date: null,
      lines: [{ description: "Prep", quantity: "2.5", unit_price: "100" }],
    });
  }, 60_000);

  it("shows each line's amount and a live total as lines change", async () => {
    renderWithProviders(
      <EngagementForm
        initial={existing}
        initialClient={{ value: "c-acme", label: "Acme LLP" }}
        submitLabel="Save"
        onSubmit={vi.fn()}
        loadClients={loadClients}
      />,
    );
    expect(screen.getByTestId("lines-total")).toHaveTextContent("$300.00");
    await userEvent.click(screen.getByRole("button", { name: "Add line" }));
    await userEvent.clear(screen.getByLabelText("Line 2 quantity"));
    await userEvent.type(screen.getByLabelText("Line 2 quantity"), "1.5");
    await userEvent.type(screen.getByLabelText("Line 2 unit price"), "99.99");
    const lines = screen.getByRole("table", { name: "Engagement lines" });
    expect(within(lines).getByText("$149.99")).toBeInTheDocument(); // 149.985 rounds half-up
    expect(screen.getByTestId("lines-total")).toHaveTextContent("$449.99");
    await userEvent.click(screen.getByRole("button", { name: "Remove line 1" }));
    expect(screen.getByTestId("lines-total")).toHaveTextContent("$149.99");
  }, 60_000);

  it("edits with the version, without the client, and refuses a missing fee or a bad line", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(
      <EngagementForm
        initial={existing}
        initialClient={{ value: "c-acme", label: "Acme LLP" }}
        submitLabel="Save"
        onSubmit={onSubmit}
        loadClients={loadClients}
      />,
    );
    expect(screen.getByLabelText(/^Client/, { selector: "input" })).toHaveValue("Acme LLP");
    await userEvent.clear(screen.getByLabelText(/^Fixed fee/));
    await userEvent.clear(screen.getByLabelText("Line 1 unit price"));
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("Required for a fixed fee")).toBeInTheDocument();
    expect(screen.getByText("A price, e.g. 150.00")).toBeInTheDocument();

    await userEvent.type(screen.getByLabelText(/^Fixed fee/), "4500");
    await userEvent.type(screen.getByLabelText("Line 1 unit price"), "150");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    const body = onSubmit.mock.calls[0][0];
    expect(body).toMatchObject({ version: 3, fixed_fee: "4500", status: "active" });
    expect(body).not.toHaveProperty("client_id");
  }, 60_000);

  it("puts the API's messages on the fee and line fields", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [
          { field: "fixed_fee", message: "more decimal places than USD has" },
          { field: "lines.0.unit_price", message: "too large" },
        ],
      }),
    );
    renderWithProviders(
      <EngagementForm initial={existing} initialClient={{ value: "c-acme", label: "Acme LLP" }} submitLabel="Save" onSubmit={onSubmit} loadClients={loadClients} />,
    );
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("more decimal places than USD has")).toBeInTheDocument();
    expect(screen.getByLabelText("Line 1 unit price")).toHaveAttribute("aria-invalid", "true");
  }, 60_000);
});

describe("clientOptions", () => {
  it("tells clients with the same name apart", () => {
    const base = { email: null, city: null };
    expect(
      clientOptions([
        { ...base, id: "1", name: "Golden Gate", city: "Oslo" },
        { ...base, id: "2", name: "Golden Gate", email: "ap@gg.example.com" },
        { ...base, id: "3", name: "Acme" },
      ]).map((o) => o.label),
    ).toEqual(["Golden Gate (Oslo)", "Golden Gate (ap@gg.example.com)", "Acme"]);
  });
});
