import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { ClientForm } from "./ClientForm";

describe("ClientForm", () => {
  it("sends empty optional fields as null", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<ClientForm submitLabel="Create client" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Name/), "Acme LLP");
    await userEvent.click(screen.getByRole("button", { name: "Create client" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    const body = onSubmit.mock.calls[0][0];
    expect(body).toMatchObject({ name: "Acme LLP", status: "active", email: null, notes: null });
  });

  it("does not call the API without a name", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<ClientForm submitLabel="Create client" onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Create client" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("A client needs a name")).toBeInTheDocument();
  });

  it("puts the API's field messages on the fields and the rest in an alert", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [
          { field: "phone", message: "String should have at most 50 characters" },
          { field: "account_manager_id", message: "not a member of this firm" },
        ],
      }),
    );
    renderWithProviders(<ClientForm submitLabel="Create client" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Name/), "Acme");
    await userEvent.click(screen.getByRole("button", { name: "Create client" }));
    expect(await screen.findByText("String should have at most 50 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Phone")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("alert")).toHaveTextContent("account_manager_id: not a member of this firm");
  });
});
