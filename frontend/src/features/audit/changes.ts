/** One audited field: its value before and after (undefined: the side had no such field / no row). */
export interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

const IGNORED = new Set(["id", "updated_at", "created_at", "version", "firm_id"]);

/**
 * What an audit entry changed: for an update only the fields whose value differs, for a create every
 * field set (non-null), for a delete every field the row had. Bookkeeping fields (ids, timestamps,
 * versions) are left out.
 */
export function auditChanges(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): Change[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const out: Change[] = [];
  for (const field of [...keys].sort()) {
    if (IGNORED.has(field)) continue;
    const b = before ? before[field] : undefined;
    const a = after ? after[field] : undefined;
    if (before && after) {
      if (JSON.stringify(b) !== JSON.stringify(a)) out.push({ field, before: b, after: a });
    } else if (after) {
      if (a !== null && a !== undefined) out.push({ field, before: undefined, after: a });
    } else if (b !== null && b !== undefined) {
      out.push({ field, before: b, after: undefined });
    }
  }
  return out;
}

export function show(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
