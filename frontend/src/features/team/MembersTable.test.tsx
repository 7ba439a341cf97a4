import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../../test/render";
import { type Member, MembersTable } from "./MembersTable";

const member = (id: string, name: string, role: Member["role"], active = true): Member => ({
  user_id: id,
  full_name: name,
  email: `${id}@firm.test`,
  role,
  active,
  joined_at: "2026-01-01T00:00:00Z",
});
const members = [member("me", "Ada Admin", "firm_admin"), member("u2", "Bo Staff", "staff"), member("u3", "Cy Gone", "billing", false)];

function renderTable(canManage: boolean) {
  const handlers = { onRoleChange: vi.fn(), onDeactivate: vi.fn(), onReactivate: vi.fn() };
  renderWithProviders(<MembersTable members={members} meId="me" canManage={canManage} {...handlers} />);
  return handlers;
}

describe("MembersTable", { timeout: 20_000 }, () => {
  it("offers role changes and deactivation on others, never on yourself", async () => {
    const h = renderTable(true);
    expect(screen.queryByLabelText("Role of Ada Admin")).toBeNull();
    expect(screen.queryByRole("button", { name: "Deactivate Ada Admin" })).toBeNull();
    expect(within(screen.getByRole("row", { name: /Ada Admin/ })).getByText("you")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Deactivate Bo Staff" }));
    expect(h.onDeactivate).toHaveBeenCalledWith(members[1]);
    await userEvent.click(screen.getByRole("button", { name: "Reactivate Cy Gone" }));
    expect(h.onReactivate).toHaveBeenCalledWith(members[2]);
  });

  it("sends the role picked in a member's Select", async () => {
    const h = renderTable(true);
    const input = screen.getAllByLabelText("Role of Bo Staff").find((el) => el.tagName === "INPUT")!;
    await userEvent.click(input);
    const listbox = document.getElementById(input.getAttribute("aria-controls") ?? "")!;
    await userEvent.click(within(listbox).getByRole("option", { name: "Manager", hidden: true }));
    expect(h.onRoleChange).toHaveBeenCalledWith(members[1], "manager");
  });

  it("only shows roles to those who may not manage the team", () => {
    renderTable(false);
    expect(screen.queryByLabelText("Role of Bo Staff")).toBeNull();
    expect(screen.queryByRole("button", { name: /Deactivate|Reactivate/ })).toBeNull();
    expect(screen.queryByRole("columnheader", { name: "Actions" })).toBeNull();
  });
});
