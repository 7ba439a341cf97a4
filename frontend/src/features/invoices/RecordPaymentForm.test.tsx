import { screen } from "@testing-library/react";
import userEventLib from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../../test/render";
import { RecordPaymentForm } from "./RecordPaymentForm";

const userEvent = userEventLib.setup({ delay: null });
vi.setConfig({ testTimeout: 20_000 });

function setup(onSubmit = vi.fn().mockResolvedValue(undefined)) {
  renderWithProviders(
    <RecordPaymentForm balanceDue="120.50" currency="USD" today="2026-12-02" onSubmit={onSubmit} />,
  );
  return onSubmit;
}

describe("RecordPaymentForm", () => {
  it("offers the balance due and today, and sends them", async () => {
    const onSubmit = setup();
    expect(screen.getByLabelText(/^Amount/)).toHaveValue("120.50");
    await userEvent.type(screen.getByLabelText("Reference"), "  TRX-9 ");
    await userEvent.click(screen.getByRole("button", { name: "Save payment" }));
    expect(onSubmit).toHaveBeenCalledWith({
      amount: "120.50",
      received_date: "2026-12-02",
      method: "bank_transfer",
      reference: "TRX-9",
      notes: null,
    });
  });

  it("refuses more than the balance due, compared exactly", async () => {
    const onSubmit = setup();
    const amount = screen.getByLabelText(/^Amount/);
    await userEvent.clear(amount);
    await userEvent.type(amount, "120.51");
    await userEvent.click(screen.getByRole("button", { name: "Save payment" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/At most the balance due/)).toBeInTheDocument();
  });

  it("refuses sub-cent amounts and zero", async () => {
    const onSubmit = setup();
    const amount = screen.getByLabelText(/^Amount/);
    await userEvent.clear(amount);
    await userEvent.type(amount, "10.005");
    await userEvent.click(screen.getByRole("button", { name: "Save payment" }));
    expect(screen.getByText("An amount with at most 2 decimals")).toBeInTheDocument();
    await userEvent.clear(amount);
    await userEvent.type(amount, "0");
    await userEvent.click(screen.getByRole("button", { name: "Save payment" }));
    expect(screen.getByText("More than zero")).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });
});
