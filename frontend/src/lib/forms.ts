import { ApiError } from "../api/client";

interface FormLike {
  setErrors(errors: Record<string, string>): void;
  getValues(): object;
}

/**
 * Puts a problem+json's field messages on the form fields they name ("name", "lines.0.quantity") and
 * returns what is left for a form-level alert: the detail, plus messages for fields the form lacks.
 */
export function applyProblem(form: FormLike, error: unknown): string | null {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  if (isEditConflict(error)) return CONFLICT_MESSAGE;
  const fieldErrors = error.fieldErrors;
  const onForm: Record<string, string> = {};
  const elsewhere: string[] = [];
  const values = form.getValues() as Record<string, unknown>;
  for (const [field, message] of Object.entries(fieldErrors)) {
    const root = field.split(".")[0];
    if (root in values) onForm[field] = message;
    else elsewhere.push(`${field}: ${message}`);
  }
  form.setErrors(onForm);
  if (Object.keys(onForm).length && !elsewhere.length) return null;
  return [error.problem.detail ?? error.problem.title, ...elsewhere].filter(Boolean).join(" — ");
}

/** Form inputs hold "" for an empty optional field; the API wants null (or the field left out). */
export function blankToNull<T extends Record<string, unknown>>(values: T): { [K in keyof T]: T[K] | null } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === "string" && v.trim() === "" ? null : v;
  return out as { [K in keyof T]: T[K] | null };
}

export const CONFLICT_MESSAGE =
  "Someone else changed this record after you opened it, so your changes were not saved. " +
  "Close this form and open it again to see the current values, then make your change again.";

/** A stale optimistic-concurrency version (409 on "version") or a failed If-Match precondition (412). */
export function isEditConflict(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.status === 412 || (error.status === 409 && "version" in error.fieldErrors);
}
