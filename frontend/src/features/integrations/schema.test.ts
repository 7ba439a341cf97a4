import { describe, expect, it } from "vitest";

import { fieldPaths, initialValues, type JsonSchema, placeErrors, schemaFields, toBody, validateFields } from "./schema";

// Trimmed from the real providers' schemas (GET /api/v1/providers).
const config: JsonSchema = {
  $defs: {
    Notify: {
      type: "object",
      title: "Notifications",
      properties: { sync_failed: { type: "boolean", default: true, title: "A sync failed" } },
    },
    GroupRoleMapping: {
      type: "object",
      properties: { group_dn: { type: "string" }, role: { enum: ["staff", "partner"], type: "string" } },
      required: ["group_dn", "role"],
    },
  },
  type: "object",
  required: ["realm_id", "client_id"],
  properties: {
    realm_id: { type: "string", title: "Company ID (realm)", pattern: "^\\d+$", maxLength: 32, description: "The id." },
    client_id: { type: "string", minLength: 1 },
    environment: { type: "string", enum: ["sandbox", "production"], default: "production", title: "Environment" },
    scopes: { type: "array", items: { type: "string" }, default: ["accounting"], minItems: 1, title: "OAuth scopes" },
    minor_version: { type: "integer", default: 75, minimum: 75, title: "API minor version" },
    sync_window_days: { anyOf: [{ type: "integer", minimum: 1, maximum: 3650 }, { type: "null" }], default: 365 },
    ca_bundle: { anyOf: [{ type: "string", maxLength: 1000 }, { type: "null" }], default: null },
    notify: { $ref: "#/$defs/Notify", title: "Notifications" },
    role_mappings: { type: "array", items: { $ref: "#/$defs/GroupRoleMapping" }, title: "Group → role mappings" },
  },
};
const credentials: JsonSchema = {
  type: "object",
  required: ["client_secret"],
  properties: {
    client_secret: { type: "string", format: "password", writeOnly: true, minLength: 1, title: "OAuth client secret" },
    access_token: { anyOf: [{ type: "string", format: "password", writeOnly: true }, { type: "null" }], default: null },
  },
};

describe("schemaFields", () => {
  const fields = schemaFields(config, "config");
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it("maps each JSON Schema shape onto an input kind, with title as label and paths under the prefix", () => {
    expect(fields.map((f) => [f.name, f.kind])).toEqual([
      ["realm_id", "string"],
      ["client_id", "string"],
      ["environment", "enum"],
      ["scopes", "list"],
      ["minor_version", "integer"],
      ["sync_window_days", "integer"],
      ["ca_bundle", "string"],
      ["notify", "object"],
      ["role_mappings", "json"],
    ]);
    expect(byName.realm_id).toMatchObject({ path: "config.realm_id", label: "Company ID (realm)", required: true, pattern: "^\\d+$" });
    expect(byName.client_id.label).toBe("Client id");
    expect(byName.environment.options).toEqual(["sandbox", "production"]);
    expect(byName.sync_window_days).toMatchObject({ nullable: true, required: false, min: 1, max: 3650 });
    expect(byName.notify.children?.[0]).toMatchObject({ path: "config.notify.sync_failed", kind: "boolean" });
  });

  it("treats format: password and writeOnly as password inputs, also inside anyOf with null", () => {
    const creds = schemaFields(credentials, "credentials");
    expect(creds.map((f) => [f.path, f.kind, f.nullable])).toEqual([
      ["credentials.client_secret", "password", false],
      ["credentials.access_token", "password", true],
    ]);
  });

  it("starts from defaults, or from a saved config", () => {
    expect(initialValues(fields)).toMatchObject({
      realm_id: "",
      environment: "production",
      scopes: "accounting",
      minor_version: 75,
      sync_window_days: 365,
      ca_bundle: "",
      notify: { sync_failed: true },
      role_mappings: "",
    });
    const saved = initialValues(fields, { realm_id: "123", role_mappings: [{ group_dn: "CN=a", role: "staff" }] });
    expect(saved.realm_id).toBe("123");
    expect(JSON.parse(String(saved.role_mappings))).toEqual([{ group_dn: "CN=a", role: "staff" }]);
  });
});

describe("toBody", () => {
  const fields = schemaFields(config, "config");

  it("leaves empty fields out, sends emptied nullable ones as null, and parses lists, numbers and JSON", () => {
    const values = {
      ...initialValues(fields),
      realm_id: "42",
      client_id: "abc",
      scopes: "a\n  b \n\n",
      sync_window_days: "",
      role_mappings: '[{"group_dn": "CN=x", "role": "staff"}]',
      notify: { sync_failed: false },
    };
    expect(toBody(fields, values)).toEqual({
      realm_id: "42",
      client_id: "abc",
      environment: "production",
      scopes: ["a", "b"],
      minor_version: 75,
      sync_window_days: null,
      ca_bundle: null,
      notify: { sync_failed: false },
      role_mappings: [{ group_dn: "CN=x", role: "staff" }],
    });
  });
});

describe("validateFields", () => {
  const fields = schemaFields(config, "config");

  it("checks required, pattern, bounds and JSON before calling the API", () => {
    const errors = validateFields(fields, {
      ...initialValues(fields),
      realm_id: "12a",
      minor_version: 3,
      scopes: "", // empty with a default: left out, the default applies
      role_mappings: "[{",
    });
    expect(errors).toEqual({
      "config.realm_id": "Not in the expected format",
      "config.client_id": "Required",
      "config.minor_version": "At least 75",
      "config.role_mappings": "Not valid JSON",
    });
  });
});

describe("placeErrors", () => {
  it("puts each API error on its field, or on the nearest field shown, and returns the rest", () => {
    const paths = ["display_name", ...fieldPaths(schemaFields(config, "config")), "credentials.client_secret"];
    const { onFields, rest } = placeErrors(
      {
        "config.realm_id": "String should match pattern",
        "credentials.client_secret": "Field required",
        "config.role_mappings.0.role": "Input should be 'staff' or 'partner'",
        "config.notify.sync_failed": "Input should be a valid boolean",
        config: "already connected",
        provider: "unknown provider",
      },
      paths,
    );
    expect(onFields).toEqual({
      "config.realm_id": "String should match pattern",
      "credentials.client_secret": "Field required",
      "config.role_mappings": "0.role: Input should be 'staff' or 'partner'",
      "config.notify.sync_failed": "Input should be a valid boolean",
    });
    expect(rest).toEqual(["config: already connected", "provider: unknown provider"]);
  });
});
