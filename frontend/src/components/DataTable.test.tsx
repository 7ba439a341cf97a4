import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { ColumnDef } from "@tanstack/react-table";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "../test/render";
import { DataTable, fromSorting, toSorting } from "./DataTable";

type Row = { id: string; name: string; city: string };
const rows: Row[] = [
  { id: "1", name: "Acme", city: "Oslo" },
  { id: "2", name: "Birch", city: "Lima" },
];
const columns: ColumnDef<Row>[] = [
  { id: "name", accessorKey: "name", header: "Name", enableSorting: true },
  { id: "city", accessorKey: "city", header: "City", enableSorting: false },
];

describe("sort parameter", () => {
  it("round-trips the API's syntax", () => {
    expect(toSorting("-created_at")).toEqual([{ id: "created_at", desc: true }]);
    expect(fromSorting(toSorting("name"))).toBe("name");
    expect(fromSorting([])).toBeUndefined();
  });
});

describe("DataTable", () => {
  it("asks the server for the other direction when a sorted header is clicked", async () => {
    const onSortChange = vi.fn();
    renderWithProviders(
      <DataTable label="Clients" columns={columns} rows={rows} sort="name" onSortChange={onSortChange} />,
    );
    const header = screen.getByRole("columnheader", { name: /Name/ });
    expect(header).toHaveAttribute("aria-sort", "ascending");
    await userEvent.click(within(header).getByRole("button"));
    expect(onSortChange).toHaveBeenCalledWith("-name");
    // Columns the API cannot sort by are plain text.
    expect(within(screen.getByRole("columnheader", { name: "City" })).queryByRole("button")).toBeNull();
  });

  it("shows the row range and pages through the server's total", async () => {
    const onPageChange = vi.fn();
    renderWithProviders(
      <DataTable label="Clients" columns={columns} rows={rows} total={60} page={2} pageSize={25} onPageChange={onPageChange} />,
    );
    expect(screen.getByText("26–50 of 60")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "3" }));
    expect(onPageChange).toHaveBeenCalledWith(3);
  });

  it("opens a row with the keyboard", async () => {
    const onRowClick = vi.fn();
    renderWithProviders(<DataTable label="Clients" columns={columns} rows={rows} onRowClick={onRowClick} />);
    const birch = screen.getByRole("row", { name: /Birch/ });
    birch.focus();
    await userEvent.keyboard("{Enter}");
    expect(onRowClick).toHaveBeenCalledWith(rows[1]);
  });
});
