import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError, type Schemas } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { ContactForm } from "./ContactForm";

const existing: Schemas["ContactOut"] = {
  id: "c1",
  client_id: "cl1",
  first_name: "Ann",
  last_name: "Zed",
  title: "CFO",
  email: "ann@acme.example.com",
  phone: null,
  email_opt_out: false,
  sms_opt_out: false,
  call_opt_out: false,
  version: 4,
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  external_refs: [],
};

describe("ContactForm", () => {
  it("creates with blanks as null, a blank last name as empty text, and no version", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<ContactForm submitLabel="Add contact" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^First name/), "  Bob ");
    await userEvent.click(screen.getByLabelText("SMS opt-out"));
    await userEvent.click(screen.getByRole("button", { name: "Add contact" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    const body = onSubmit.mock.calls[0][0];
    expect(body).toEqual({
      first_name: "Bob",
      last_name: "",
      title: null,
      email: null,
      phone: null,
      email_opt_out: false,
      sms_opt_out: true,
      call_opt_out: false,
    });
  });

  it("edits with the version read, so a stale edit is refused", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<ContactForm initial={existing} submitLabel="Save contact" onSubmit={onSubmit} />);
    expect(screen.getByLabelText("Title")).toHaveValue("CFO");
    await userEvent.clear(screen.getByLabelText("Title"));
    await userEvent.click(screen.getByRole("button", { name: "Save contact" }));
    expect(onSubmit.mock.calls[0][0]).toMatchObject({ first_name: "Ann", title: null, version: 4 });
  });

  it("validates before calling the API", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<ContactForm submitLabel="Add contact" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText("Email"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Add contact" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("A contact needs a first name")).toBeInTheDocument();
    expect(screen.getByText("Not an email address")).toBeInTheDocument();
  });

  it("puts the API's field messages on the fields", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [{ field: "phone", message: "String should have at most 50 characters" }],
      }),
    );
    renderWithProviders(<ContactForm submitLabel="Add contact" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^First name/), "Ann");
    await userEvent.click(screen.getByRole("button", { name: "Add contact" }));
    expect(await screen.findByText("String should have at most 50 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Phone")).toHaveAttribute("aria-invalid", "true");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("explains an edit conflict instead of showing the raw error", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(409, {
        title: "Conflict",
        detail: "modified since you read it (version 5, you sent 4)",
        errors: [{ field: "version", message: "modified since you read it (version 5, you sent 4)" }],
      }),
    );
    renderWithProviders(<ContactForm initial={existing} submitLabel="Save contact" onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole("button", { name: "Save contact" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Someone else changed this record");
  });
});
