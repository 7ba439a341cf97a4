import { Group, Pagination, Table, Text, UnstyledButton } from "@mantine/core";
import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";

/** "-name" ⇄ [{id: "name", desc: true}]: the API's sort parameter as TanStack Table's sorting state. */
export function toSorting(sort: string | undefined): SortingState {
  if (!sort) return [];
  return [{ id: sort.replace(/^-/, ""), desc: sort.startsWith("-") }];
}

export function fromSorting(state: SortingState): string | undefined {
  const first = state[0];
  return first ? `${first.desc ? "-" : ""}${first.id}` : undefined;
}

export interface DataTableProps<T> {
  label: string;
  columns: ColumnDef<T, any>[];
  rows: T[];
  /** Server-side paging: total rows, the 1-based page and its size. */
  total?: number;
  page?: number;
  pageSize?: number;
  onPageChange?: (page: number) => void;
  /** Server-side sorting in the API's syntax ("name", "-created_at"); columns with enableSorting sort. */
  sort?: string;
  onSortChange?: (sort: string | undefined) => void;
  onRowClick?: (row: T) => void;
  getRowId?: (row: T) => string;
}

/**
 * A table over one page of an API list: sorting and paging are the server's (the table only renders
 * and reports clicks), headers are buttons with aria-sort, rows open with Enter as well as a click.
 */
export function DataTable<T>({
  label,
  columns,
  rows,
  total,
  page = 1,
  pageSize = 50,
  onPageChange,
  sort,
  onSortChange,
  onRowClick,
  getRowId,
}: DataTableProps<T>) {
  const table = useReactTable({
    data: rows,
    columns,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    enableSortingRemoval: false,
    state: { sorting: toSorting(sort) },
    onSortingChange: (updater) => {
      const next = typeof updater === "function" ? updater(toSorting(sort)) : updater;
      onSortChange?.(fromSorting(next));
    },
    getRowId,
  });
  const pages = total !== undefined ? Math.max(1, Math.ceil(total / pageSize)) : 1;

  return (
    <>
      <Table.ScrollContainer minWidth={600}>
        <Table striped highlightOnHover={!!onRowClick} aria-label={label} verticalSpacing="xs">
          <Table.Thead>
            {table.getHeaderGroups().map((group) => (
              <Table.Tr key={group.id}>
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  const content = flexRender(header.column.columnDef.header, header.getContext());
                  return (
                    <Table.Th
                      key={header.id}
                      aria-sort={sorted ? (sorted === "desc" ? "descending" : "ascending") : undefined}
                    >
                      {header.column.getCanSort() && onSortChange ? (
                        <UnstyledButton onClick={header.column.getToggleSortingHandler()} fw={600} fz="sm">
                          {content} {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : ""}
                        </UnstyledButton>
                      ) : (
                        content
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Thead>
          <Table.Tbody>
            {table.getRowModel().rows.map((row) => (
              <Table.Tr
                key={row.id}
                style={onRowClick ? { cursor: "pointer" } : undefined}
                tabIndex={onRowClick ? 0 : undefined}
                onClick={onRowClick ? () => onRowClick(row.original) : undefined}
                onKeyDown={
                  onRowClick
                    ? (e) => {
                        if (e.key === "Enter") onRowClick(row.original);
                      }
                    : undefined
                }
              >
                {row.getVisibleCells().map((cell) => (
                  <Table.Td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {total !== undefined ? (
        <Group justify="space-between" mt="sm">
          <Text size="sm" c="dimmed">
            {total === 0
              ? "No rows"
              : `${(page - 1) * pageSize + 1}–${Math.min(page * pageSize, total)} of ${total}`}
          </Text>
          {pages > 1 && onPageChange ? (
            <Pagination total={pages} value={page} onChange={onPageChange} size="sm" aria-label={`${label} pages`} />
          ) : null}
        </Group>
      ) : null}
    </>
  );
}
