import { screen } from "@testing-library/react";
import userEventLib from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { LeadForm } from "./LeadForm";

const userEvent = userEventLib.setup({ delay: null });
vi.setConfig({ testTimeout: 20_000 });

describe("LeadForm", () => {
  it("sends a new lead with blanks as null and the score as a number", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<LeadForm submitLabel="Create lead" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Name/), " Jane Roe ");
    await userEvent.type(screen.getByLabelText("Company"), "Roe Holdings");
    await userEvent.type(screen.getByLabelText("Score"), "70");
    await userEvent.click(screen.getByRole("button", { name: "Create lead" }));
    expect(onSubmit).toHaveBeenCalledWith({
      name: "Jane Roe",
      company_name: "Roe Holdings",
      email: null,
      phone: null,
      source: null,
      score: 70,
      status: "new",
      notes: null,
    });
  });

  it("needs a name and a real email", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<LeadForm submitLabel="Create lead" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText("Email"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Create lead" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("A lead needs a name")).toBeInTheDocument();
    expect(screen.getByText("Not an email address")).toBeInTheDocument();
  });

  it("puts the API's field messages on the fields", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [{ field: "source", message: "String should have at most 60 characters" }],
      }),
    );
    renderWithProviders(<LeadForm submitLabel="Create lead" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Name/), "Jane");
    await userEvent.click(screen.getByRole("button", { name: "Create lead" }));
    expect(await screen.findByText("String should have at most 60 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Source")).toHaveAttribute("aria-invalid", "true");
  });
});
