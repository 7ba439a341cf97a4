import { fireEvent, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { EventForm, fromLocalInput, toLocalInput } from "./EventForm";

const NY = "America/New_York";

beforeEach(() => {
  // The client picker loads the firm's clients.
  vi.stubGlobal(
    "fetch",
    vi.fn(async () => new Response(JSON.stringify({ items: [], total: 0, limit: 200, offset: 0 }), {
      headers: { "Content-Type": "application/json" },
    })),
  );
});

afterEach(() => vi.unstubAllGlobals());

const setInput = (label: RegExp, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe("zoned inputs", () => {
  it("reads and writes datetime-local values in the firm's zone", () => {
    expect(fromLocalInput("2026-12-09T09:30", NY)).toBe("2026-12-09T09:30:00-05:00");
    expect(toLocalInput("2026-12-09T14:30:00Z", NY)).toBe("2026-12-09T09:30");
  });
});

describe("EventForm", () => {
  it("sends the times as instants in the firm's zone and blanks as null", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(<EventForm tz={NY} submitLabel="Create event" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Title/), "Tax review");
    setInput(/^Starts/, "2026-12-09T09:30");
    setInput(/^Ends/, "2026-12-09T10:15");
    await userEvent.click(screen.getByRole("button", { name: "Create event" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    expect(onSubmit.mock.calls[0][0]).toEqual({
      title: "Tax review",
      starts_at: "2026-12-09T09:30:00-05:00",
      ends_at: "2026-12-09T10:15:00-05:00",
      timezone: NY,
      location: null,
      client_id: null,
      description: null,
    });
  });

  it("refuses an end that is not after the start", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<EventForm tz="UTC" submitLabel="Create event" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Title/), "Call");
    setInput(/^Starts/, "2026-12-09T10:00");
    setInput(/^Ends/, "2026-12-09T10:00");
    await userEvent.click(screen.getByRole("button", { name: "Create event" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("The end must be after the start")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Ends/)).toHaveAttribute("aria-invalid", "true");
  });

  it("puts the API's field messages on the fields", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "The request has invalid fields.",
        errors: [{ field: "location", message: "String should have at most 300 characters" }],
      }),
    );
    renderWithProviders(<EventForm tz="UTC" submitLabel="Save" onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText(/^Title/), "Call");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("String should have at most 300 characters")).toBeInTheDocument();
    expect(screen.getByLabelText("Location")).toHaveAttribute("aria-invalid", "true");
  });

  it("edits an event in the zone and offers deletion", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    const onDelete = vi.fn().mockResolvedValue(undefined);
    const event = {
      id: "e1",
      title: "Audit",
      description: null,
      staff_user_id: "u1",
      client_id: null,
      contact_id: null,
      starts_at: "2026-12-09T14:30:00Z",
      ends_at: "2026-12-09T15:30:00Z",
      timezone: NY,
      location: "Office",
      provider_etags: {},
      version: 3,
      created_at: "2026-12-01T00:00:00Z",
      updated_at: "2026-12-01T00:00:00Z",
      external_refs: [],
    };
    renderWithProviders(
      <EventForm initial={event} tz={NY} submitLabel="Save event" onSubmit={onSubmit} onDelete={onDelete} />,
    );
    expect(screen.getByLabelText(/^Starts/)).toHaveValue("2026-12-09T09:30");
    await userEvent.click(screen.getByRole("button", { name: "Delete event" }));
    expect(onDelete).toHaveBeenCalledOnce();
    await userEvent.click(screen.getByRole("button", { name: "Save event" }));
    expect(onSubmit.mock.calls[0][0]).toMatchObject({ title: "Audit", location: "Office", starts_at: "2026-12-09T09:30:00-05:00" });
  });
});
