import { Anchor } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { api } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { closeConsole, onConsoleClick } from "./openConsole";

const URL = "https://firm.example/dagster/runs/run-9";

function fakeTab() {
  return { opener: window, location: { href: "" }, close: vi.fn() } as unknown as Window & { close: ReturnType<typeof vi.fn> };
}

afterEach(() => vi.restoreAllMocks());

describe("console links", () => {
  it("get the console cookie first, then send the new tab to the console", async () => {
    const order: string[] = [];
    const tab = fakeTab();
    vi.spyOn(window, "open").mockImplementation(() => {
      order.push("open");
      return tab;
    });
    const post = vi.spyOn(api, "POST").mockImplementation((async () => {
      order.push("operator-session");
      expect(tab.location.href).toBe(""); // not navigated before the cookie exists
      return { data: undefined, error: undefined, response: new Response(null, { status: 204 }) };
    }) as never);
    renderWithProviders(
      <Anchor href={URL} onClick={onConsoleClick(URL)}>
        Open run in Dagster
      </Anchor>,
    );

    const link = screen.getByRole("link", { name: "Open run in Dagster" });
    expect(link).toHaveAttribute("href", URL);
    await userEvent.click(link);

    expect(post).toHaveBeenCalledWith("/api/v1/auth/operator-session");
    await vi.waitFor(() => expect(tab.location.href).toBe(URL));
    expect(order).toEqual(["open", "operator-session"]);
    expect(tab.opener).toBeNull();
  });

  it("closes the tab and says why when the API refuses", async () => {
    const tab = fakeTab();
    vi.spyOn(window, "open").mockReturnValue(tab);
    vi.spyOn(api, "POST").mockResolvedValue({
      data: undefined,
      error: { title: "Forbidden", status: 403, detail: "Role 'staff' may not operations:console." },
      response: new Response(null, { status: 403 }),
    } as never);
    renderWithProviders(
      <>
        <Notifications />
        <Anchor href={URL} onClick={onConsoleClick(URL)}>
          Open run in Dagster
        </Anchor>
      </>,
    );

    await userEvent.click(screen.getByRole("link", { name: "Open run in Dagster" }));

    expect(await screen.findByText(/may not operations:console/)).toBeInTheDocument();
    expect(tab.close).toHaveBeenCalledOnce();
    expect(tab.location.href).toBe("");
  });

  it("asks the API to clear the console cookie on sign-out, and never fails the sign-out", async () => {
    const del = vi.spyOn(api, "DELETE").mockRejectedValue(new TypeError("offline") as never);
    await expect(closeConsole()).resolves.toBeUndefined();
    expect(del).toHaveBeenCalledWith("/api/v1/auth/operator-session");
  });
});
