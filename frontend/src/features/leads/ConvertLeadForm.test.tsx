import { createMemoryHistory, createRootRoute, createRouter, RouterProvider } from "@tanstack/react-router";
import { screen } from "@testing-library/react";
import userEventLib from "@testing-library/user-event";
import type { ReactElement } from "react";
import { describe, expect, it, vi } from "vitest";

import { ApiError, type Schemas } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { ConvertLeadForm } from "./ConvertLeadForm";
import type { Lead } from "./queries";

const userEvent = userEventLib.setup({ delay: null });

const LEAD = { id: "l1", name: "Jane Roe", company_name: "Roe Holdings", version: 7 } as Lead;

function renderInRouter(ui: ReactElement) {
  const router = createRouter({
    routeTree: createRootRoute({ component: () => ui }),
    history: createMemoryHistory({ initialEntries: ["/"] }),
  });
  return renderWithProviders(<RouterProvider router={router} />);
}

describe("ConvertLeadForm", () => {
  it("sends the client name, the contact choice and the lead's version, then links to the new client", async () => {
    const onSubmit = vi.fn().mockResolvedValue({
      lead: LEAD,
      client: { id: "c42", name: "Roe Holdings Ltd" },
      contact: null,
    } as unknown as Schemas["LeadConversion"]);
    renderInRouter(<ConvertLeadForm lead={LEAD} onSubmit={onSubmit} onClose={vi.fn()} />);
    const name = await screen.findByLabelText(/^Client name/);
    expect(name).toHaveValue("Roe Holdings");
    await userEvent.type(name, " Ltd");
    await userEvent.click(screen.getByLabelText("Also create a contact for this person"));
    await userEvent.click(screen.getByRole("button", { name: "Convert" }));
    expect(onSubmit).toHaveBeenCalledWith({ client_name: "Roe Holdings Ltd", create_contact: false, version: 7 });
    expect(await screen.findByRole("link", { name: "Open client Roe Holdings Ltd" })).toHaveAttribute(
      "href",
      "/clients/c42",
    );
  });

  it("shows a conflict instead of a link", async () => {
    const onSubmit = vi
      .fn()
      .mockRejectedValue(new ApiError(409, { title: "Conflict", detail: "lead l1 changed since version 7" }));
    renderInRouter(<ConvertLeadForm lead={LEAD} onSubmit={onSubmit} onClose={vi.fn()} />);
    await userEvent.click(await screen.findByRole("button", { name: "Convert" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("lead l1 changed since version 7");
    expect(screen.queryByRole("link")).not.toBeInTheDocument();
  });
});
