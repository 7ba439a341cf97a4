/** The search parameters every list page keeps in its URL (shareable, back-button friendly). */
export interface ListSearch {
  q?: string;
  sort?: string;
  page?: number;
  status?: string;
}

export function validateListSearch(search: Record<string, unknown>): ListSearch {
  const page = Number(search.page);
  return {
    q: typeof search.q === "string" && search.q ? search.q : undefined,
    sort: typeof search.sort === "string" && search.sort ? search.sort : undefined,
    page: Number.isInteger(page) && page > 1 ? page : undefined,
    status: typeof search.status === "string" && search.status ? search.status : undefined,
  };
}

export const PAGE_SIZE = 25;

export function pageParams(search: ListSearch) {
  return { limit: PAGE_SIZE, offset: ((search.page ?? 1) - 1) * PAGE_SIZE };
}

/**
 * DataTable's paging and sorting props for a list whose page and sort live in the URL. `setSearch`
 * merges a patch into the search and resets the page, so a new sort starts again at page 1.
 */
export function urlPaging(
  search: Pick<ListSearch, "page" | "sort">,
  setSearch: (patch: { page?: number; sort?: string }) => void,
  defaultSort: string,
) {
  return {
    page: search.page ?? 1,
    pageSize: PAGE_SIZE,
    onPageChange: (page: number) => setSearch({ page }),
    sort: search.sort ?? defaultSort,
    onSortChange: (sort: string | undefined) => setSearch({ sort }),
  };
}
