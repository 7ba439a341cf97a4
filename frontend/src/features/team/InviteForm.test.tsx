import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { InviteForm } from "./InviteForm";

const created = {
  id: "i1",
  email: "new@firm.test",
  role: "manager" as const,
  token: "tok_abc/123",
  expires_at: "2026-12-09T00:00:00Z",
  accepted_at: null,
  revoked_at: null,
  created_at: "2026-12-02T00:00:00Z",
};

describe("InviteForm", { timeout: 20_000 }, () => {
  it("sends email and role, then shows the one-time link to copy", async () => {
    const onSubmit = vi.fn().mockResolvedValue(created);
    renderWithProviders(<InviteForm onSubmit={onSubmit} onDone={vi.fn()} origin="https://app.test" />);
    await userEvent.type(screen.getByLabelText(/^Email/), " new@firm.test ");
    await userEvent.click(screen.getAllByLabelText(/^Role/)[0]);
    await userEvent.click(await screen.findByRole("option", { name: "Manager", hidden: true }));
    await userEvent.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(onSubmit).toHaveBeenCalledWith({ email: "new@firm.test", role: "manager" });
    const link = await screen.findByLabelText("Invitation link");
    expect(link).toHaveValue("https://app.test/accept-invitation?token=tok_abc%2F123");
    expect(link).toHaveAttribute("readonly");
    expect(screen.getByRole("button", { name: "Copy" })).toBeInTheDocument();
  });

  it("puts the API's email error on the Email field", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(409, { title: "Conflict", errors: [{ field: "email", message: "already a member of this firm" }] }),
    );
    renderWithProviders(<InviteForm onSubmit={onSubmit} onDone={vi.fn()} />);
    await userEvent.type(screen.getByLabelText(/^Email/), "a@b.test");
    await userEvent.click(screen.getByRole("button", { name: "Send invitation" }));
    expect(await screen.findByText("already a member of this firm")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Email/)).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByLabelText("Invitation link")).toBeNull();
  });
});
