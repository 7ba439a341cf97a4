import type { ApiError } from "../../api/client";

/**
 * A provider's pydantic JSON Schema (config / credentials / mapping) as a flat list of form fields, the
 * form values they start from, the request body they turn into, client-side checks, and where the API's
 * field errors ("config.account_id", "config.role_mappings.0.role") land.
 */

export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  writeOnly?: boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
};

export type FieldKind = "string" | "password" | "integer" | "number" | "boolean" | "enum" | "list" | "object" | "json";

export interface SchemaField {
  name: string;
  /** The form path, which is also the API's error path: "config.realm_id". */
  path: string;
  kind: FieldKind;
  label: string;
  description?: string;
  required: boolean;
  /** `anyOf` with null: an emptied field is sent as null (not left out, which would mean the default). */
  nullable: boolean;
  default?: unknown;
  options?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  /** kind "object": one level of simple fields, rendered as a fieldset. */
  children?: SchemaField[];
}

function humanize(name: string): string {
  const s = name.replace(/_/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  if (s.$ref) {
    const name = s.$ref.split("/").pop() ?? "";
    const target = root.$defs?.[name] ?? {};
    const { $ref: _, ...rest } = s;
    return { ...resolve(target, root), ...rest };
  }
  if (s.allOf?.length === 1) {
    const { allOf, ...rest } = s;
    return { ...resolve(allOf[0], root), ...rest };
  }
  return s;
}

function isSimple(kind: FieldKind) {
  return kind !== "object" && kind !== "json";
}

function toField(name: string, prefix: string, raw: JsonSchema, root: JsonSchema, required: boolean, depth: number): SchemaField {
  let s = resolve(raw, root);
  let nullable = false;
  if (s.anyOf) {
    const nonNull = s.anyOf.filter((a) => a.type !== "null");
    nullable = nonNull.length < s.anyOf.length;
    const { anyOf: _, ...outer } = s;
    s = nonNull.length === 1 ? { ...resolve(nonNull[0], root), ...outer } : { ...outer, type: "json-any" };
  }
  const path = prefix ? `${prefix}.${name}` : name;
  const base = {
    name,
    path,
    label: s.title ?? humanize(name),
    description: s.description,
    required,
    nullable,
    default: s.default,
  };
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (s.enum) return { ...base, kind: "enum", options: s.enum.map(String) };
  if (type === "boolean") return { ...base, kind: "boolean" };
  if (type === "integer" || type === "number") {
    return {
      ...base,
      kind: type,
      min: s.minimum ?? s.exclusiveMinimum,
      max: s.maximum ?? s.exclusiveMaximum,
    };
  }
  if (type === "string") {
    return {
      ...base,
      kind: s.format === "password" || s.writeOnly ? "password" : "string",
      pattern: s.pattern,
      minLength: s.minLength,
      maxLength: s.maxLength,
    };
  }
  if (type === "array") {
    const items = s.items ? resolve(s.items, root) : {};
    if (items.type === "string" && !items.enum) return { ...base, kind: "list", minItems: s.minItems };
    return { ...base, kind: "json" };
  }
  if (type === "object" && s.properties && depth === 0 && !s.additionalProperties) {
    const req = new Set(s.required ?? []);
    const children = Object.entries(s.properties).map(([n, p]) => toField(n, path, p, root, req.has(n), depth + 1));
    if (children.every((c) => isSimple(c.kind))) return { ...base, kind: "object", children };
  }
  return { ...base, kind: "json" };
}

/** The fields of an object schema, their paths under `prefix` ("config", "credentials"). */
export function schemaFields(schema: JsonSchema | null | undefined, prefix: string): SchemaField[] {
  if (!schema?.properties) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, prop]) =>
    toField(name, prefix, prop, schema, required.has(name), 0),
  );
}

/** Every path a field renders at (objects' children included): where errors may land. */
export function fieldPaths(fields: SchemaField[]): string[] {
  return fields.flatMap((f) => (f.children ? [f.path, ...fieldPaths(f.children)] : [f.path]));
}

export type FormValue = string | number | boolean | null | FormValues;
export interface FormValues {
  [key: string]: FormValue;
}

/** What an input holds for a value (a saved config's, or the schema's default). */
function inputValue(field: SchemaField, value: unknown): FormValue {
  const v = value === undefined ? field.default : value;
  switch (field.kind) {
    case "boolean":
      return typeof v === "boolean" ? v : false;
    case "integer":
    case "number":
      return typeof v === "number" ? v : "";
    case "enum":
      return v === null || v === undefined ? null : String(v);
    case "list":
      return Array.isArray(v) ? v.join("\n") : "";
    case "object":
      return initialValues(field.children ?? [], (v ?? {}) as Record<string, unknown>);
    case "json":
      return v === null || v === undefined ? "" : JSON.stringify(v, null, 2);
    default:
      return typeof v === "string" ? v : v === null || v === undefined ? "" : String(v);
  }
}

/** Form values for these fields: from `current` (an existing connection's config) or the defaults. */
export function initialValues(fields: SchemaField[], current: Record<string, unknown> = {}): FormValues {
  const out: FormValues = {};
  for (const f of fields) out[f.name] = inputValue(f, current[f.name]);
  return out;
}

function isBlank(v: FormValue | undefined): boolean {
  return v === null || v === undefined || (typeof v === "string" && v.trim() === "");
}

/**
 * Form values → the JSON the API validates. An empty field is left out (the model's default applies),
 * or sent as null when the schema allows null (so "empty: all of them" means null, not the default).
 */
export function toBody(fields: SchemaField[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === "object") {
      out[f.name] = toBody(f.children ?? [], (v ?? {}) as FormValues);
      continue;
    }
    if (f.kind === "boolean") {
      out[f.name] = Boolean(v);
      continue;
    }
    if (f.kind === "list") {
      const items = String(v ?? "")
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length) out[f.name] = items;
      else if (f.nullable) out[f.name] = null;
      continue;
    }
    if (isBlank(v)) {
      if (f.nullable) out[f.name] = null;
      continue;
    }
    if (f.kind === "json") out[f.name] = JSON.parse(String(v));
    else if (f.kind === "integer" || f.kind === "number") out[f.name] = Number(v);
    else out[f.name] = v;
  }
  return out;
}

/** Client-side hints (required, pattern, bounds, JSON syntax); the API has the last word. */
export function validateFields(fields: SchemaField[], values: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === "object") {
      Object.assign(errors, validateFields(f.children ?? [], (v ?? {}) as FormValues));
      continue;
    }
    if (f.kind === "boolean") continue;
    if (isBlank(v)) {
      if (f.required && f.default === undefined) errors[f.path] = "Required";
      continue;
    }
    if (f.kind === "json") {
      try {
        JSON.parse(String(v));
      } catch {
        errors[f.path] = "Not valid JSON";
      }
      continue;
    }
    if (f.kind === "integer" || f.kind === "number") {
      const n = Number(v);
      if (f.kind === "integer" && !Number.isInteger(n)) errors[f.path] = "A whole number";
      else if (f.min !== undefined && n < f.min) errors[f.path] = `At least ${f.min}`;
      else if (f.max !== undefined && n > f.max) errors[f.path] = `At most ${f.max}`;
      continue;
    }
    if (f.kind === "list") {
      const count = String(v).split("\n").filter((s) => s.trim()).length;
      if (f.minItems && count < f.minItems) errors[f.path] = `At least ${f.minItems}`;
      continue;
    }
    const s = String(v);
    if (f.minLength !== undefined && s.length < f.minLength) errors[f.path] = `At least ${f.minLength} characters`;
    else if (f.maxLength !== undefined && s.length > f.maxLength) errors[f.path] = `At most ${f.maxLength} characters`;
    else if (f.pattern && !safeTest(f.pattern, s)) errors[f.path] = "Not in the expected format";
  }
  return errors;
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, "u").test(value);
  } catch {
    return true; // a Python-only regex construct: leave it to the API
  }
}

/**
 * The API's field errors placed on the nearest rendered field: "config.role_mappings.0.role" lands on
 * the "config.role_mappings" JSON field as "0.role: …". What no field can hold is returned in `rest`.
 */
export function placeErrors(
  fieldErrors: Record<string, string>,
  paths: string[],
): { onFields: Record<string, string>; rest: string[] } {
  const known = new Set(paths);
  const onFields: Record<string, string> = {};
  const rest: string[] = [];
  for (const [field, message] of Object.entries(fieldErrors)) {
    const parts = field.split(".");
    let placed = false;
    for (let n = parts.length; n > 0; n--) {
      const prefix = parts.slice(0, n).join(".");
      if (!known.has(prefix)) continue;
      const tail = parts.slice(n).join(".");
      const text = tail ? `${tail}: ${message}` : message;
      onFields[prefix] = onFields[prefix] ? `${onFields[prefix]}; ${text}` : text;
      placed = true;
      break;
    }
    if (!placed) rest.push(`${field}: ${message}`);
  }
  return { onFields, rest };
}

/**
 * A problem+json answer laid out on a schema form: field messages on the fields (via `placeErrors`), and the
 * message for the form's alert — the detail plus what no field could hold, unless every message found a field.
 * A message the detail already says ("config: this firm already has …") is not repeated.
 */
export function placeProblem(
  error: ApiError,
  paths: string[],
): { onFields: Record<string, string>; message: string | null } {
  const { onFields, rest } = placeErrors(error.fieldErrors, paths);
  if (Object.keys(onFields).length && !rest.length) return { onFields, message: null };
  const detail = error.problem.detail ?? error.problem.title;
  const extra = rest.filter((r) => !detail || !detail.includes(r.slice(r.indexOf(": ") + 2)));
  return { onFields, message: [detail, ...extra].filter(Boolean).join(" — ") };
}
