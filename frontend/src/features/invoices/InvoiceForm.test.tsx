import { screen, within } from "@testing-library/react";
import userEventLib from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { InvoiceForm } from "./InvoiceForm";

const userEvent = userEventLib.setup({ delay: null });
vi.setConfig({ testTimeout: 20_000 });

const CLIENTS = [
  { value: "c1", label: "Acme LLP" },
  { value: "c2", label: "Globex" },
];

function setup(onSubmit = vi.fn().mockResolvedValue(undefined)) {
  const loadClients = vi.fn(async (q: string) => CLIENTS.filter((c) => c.label.toLowerCase().includes(q.toLowerCase())));
  const loadEngagements = vi.fn(async () => [{ value: "e1", label: "2026 audit" }]);
  renderWithProviders(
    <InvoiceForm
      currency="USD"
      submitLabel="Create invoice"
      loadClients={loadClients}
      loadEngagements={loadEngagements}
      onSubmit={onSubmit}
    />,
  );
  return { onSubmit, loadClients };
}

async function chooseClient(name: string) {
  await userEvent.click(screen.getByLabelText(/^Client/, { selector: "input" }));
  await userEvent.click(await screen.findByRole("option", { name, hidden: true }));
}

describe("InvoiceForm", () => {
  it("updates the totals as the user types, without float drift", async () => {
    setup();
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 description" }), "Advice");
    await userEvent.clear(screen.getByRole("textbox", { name: "Line 1 quantity" }));
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 quantity" }), "3");
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 unit price" }), "0.1");
    expect(screen.getByTestId("invoice-total")).toHaveTextContent("0.30");

    await userEvent.click(screen.getByRole("button", { name: "Add line" }));
    await userEvent.type(screen.getByRole("textbox", { name: "Line 2 unit price" }), "10.99");
    await userEvent.type(screen.getByRole("textbox", { name: "Line 2 tax rate (%)" }), "20");
    // 0.30 + 10.99 = 11.29; tax 10.99 × 20 % = 2.198 → 2.20; total 13.49
    expect(screen.getByTestId("invoice-subtotal")).toHaveTextContent("11.29");
    expect(screen.getByTestId("invoice-tax")).toHaveTextContent("2.20");
    expect(screen.getByTestId("invoice-total")).toHaveTextContent("13.49");

    await userEvent.click(screen.getByRole("button", { name: "Remove line 1" }));
    expect(screen.getByTestId("invoice-total")).toHaveTextContent("13.19");
    expect(screen.queryByRole("textbox", { name: "Line 2 description" })).not.toBeInTheDocument();
  });

  it("sends the client, the lines as decimal strings, and blanks as null", async () => {
    const { onSubmit, loadClients } = setup();
    await chooseClient("Globex");
    expect(loadClients).toHaveBeenCalled();
    await userEvent.type(screen.getByRole("textbox", { name: /description/i }), "Tax return");
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 unit price" }), "1250.5");
    await userEvent.click(screen.getByRole("button", { name: "Create invoice" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    expect(onSubmit.mock.calls[0][0]).toEqual({
      client_id: "c2",
      engagement_id: null,
      issue_date: null,
      due_date: null,
      notes: null,
      lines: [{ description: "Tax return", quantity: "1", unit_price: "1250.5", tax_rate: null }],
    });
  });

  it("does not submit without a client or with a bad line", async () => {
    const { onSubmit } = setup();
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 unit price" }), "12.345678");
    await userEvent.click(screen.getByRole("button", { name: "Create invoice" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("Choose a client")).toBeInTheDocument();
    expect(screen.getByText("Describe the line")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Line 1 unit price" })).toHaveAttribute("aria-invalid", "true");
  });

  it("puts the API's line errors on the line's field", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [{ field: "lines.0.unit_price", message: "USD amounts have 2 decimal places" }],
      }),
    );
    setup(onSubmit);
    await chooseClient("Acme LLP");
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 description" }), "Fee");
    await userEvent.type(screen.getByRole("textbox", { name: "Line 1 unit price" }), "1");
    await userEvent.click(screen.getByRole("button", { name: "Create invoice" }));
    expect(await screen.findByText("USD amounts have 2 decimal places")).toBeInTheDocument();
    expect(screen.getByRole("textbox", { name: "Line 1 unit price" })).toHaveAttribute("aria-invalid", "true");
    expect(within(screen.getByRole("form", { name: "Invoice" })).queryByRole("alert")).not.toBeInTheDocument();
  });
});
