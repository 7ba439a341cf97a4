import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import type { JsonSchema } from "./schema";
import { ConnectionForm } from "./SchemaForm";

const configSchema: JsonSchema = {
  type: "object",
  required: ["account_id"],
  properties: {
    account_id: { type: "string", title: "Account ID", pattern: "^acct_[A-Za-z0-9]{1,64}$", description: "acct_…" },
    api_base_url: { type: "string", title: "API base URL", default: "https://api.stripe.com" },
    reads_per_second: {
      anyOf: [{ type: "integer", minimum: 1, maximum: 100 }, { type: "null" }],
      default: null,
      title: "Read requests per second",
    },
    live: { type: "boolean", default: true, title: "Live mode" },
  },
};
const credentialsSchema: JsonSchema = {
  type: "object",
  required: ["webhook_signing_secret"],
  properties: {
    webhook_signing_secret: { type: "string", format: "password", writeOnly: true, title: "Webhook signing secret" },
    api_key: { anyOf: [{ type: "string", format: "password", writeOnly: true }, { type: "null" }], default: null, title: "API key" },
  },
};

function renderForm(onSubmit = vi.fn().mockResolvedValue(undefined)) {
  renderWithProviders(
    <ConnectionForm configSchema={configSchema} credentialsSchema={credentialsSchema} submitLabel="Connect" onSubmit={onSubmit} />,
  );
  return onSubmit;
}

describe("ConnectionForm", { timeout: 20_000 }, () => {
  it("renders labelled inputs from the schemas and sends config and credentials", async () => {
    const onSubmit = renderForm();
    expect(screen.getByLabelText(/^API base URL/)).toHaveValue("https://api.stripe.com");
    expect(screen.getByLabelText(/^Webhook signing secret/)).toHaveAttribute("type", "password");
    await userEvent.type(screen.getByLabelText(/^Account ID/), "acct_123");
    await userEvent.type(screen.getByLabelText(/^Webhook signing secret/), "whsec_x");
    await userEvent.click(screen.getByLabelText("Live mode"));
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect(onSubmit).toHaveBeenCalledWith({
      display_name: null,
      sync_interval_minutes: 60,
      config: { account_id: "acct_123", api_base_url: "https://api.stripe.com", reads_per_second: null, live: false },
      credentials: { webhook_signing_secret: "whsec_x", api_key: null },
    });
  });

  it("checks the schema's pattern and required fields before calling the API", async () => {
    const onSubmit = renderForm();
    await userEvent.type(screen.getByLabelText(/^Account ID/), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByLabelText(/^Account ID/)).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("Not in the expected format")).toBeInTheDocument();
    // Mantine's PasswordInput names its error through aria-describedby rather than aria-invalid.
    expect(screen.getByLabelText(/^Webhook signing secret/)).toHaveAccessibleDescription(/Required/);
  });

  it("puts the API's config.* and credentials.* errors on those inputs and the rest in an alert", async () => {
    const onSubmit = renderForm(
      vi.fn().mockRejectedValue(
        new ApiError(422, {
          title: "Validation Error",
          detail: "The config is not valid for this provider.",
          errors: [
            { field: "config.account_id", message: "this firm already has a stripe connection" },
            { field: "credentials.api_key", message: "Value error, not a secret key" },
            { field: "provider", message: "unknown provider" },
          ],
        }),
      ),
    );
    await userEvent.type(screen.getByLabelText(/^Account ID/), "acct_1");
    await userEvent.type(screen.getByLabelText(/^Webhook signing secret/), "whsec_x");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect(onSubmit).toHaveBeenCalledOnce();
    expect(await screen.findByText("this firm already has a stripe connection")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Account ID/)).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByLabelText(/^API key/)).toHaveAccessibleDescription(/Value error, not a secret key/);
    expect(screen.getByRole("alert")).toHaveTextContent("provider: unknown provider");
  });

  it("does not repeat a form-level message the detail already says", async () => {
    renderForm(
      vi.fn().mockRejectedValue(
        new ApiError(409, {
          title: "Conflict",
          detail: "this firm already has a stripe connection for account acct_1",
          errors: [{ field: "config", message: "this firm already has a stripe connection for account acct_1" }],
        }),
      ),
    );
    await userEvent.type(screen.getByLabelText(/^Account ID/), "acct_1");
    await userEvent.type(screen.getByLabelText(/^Webhook signing secret/), "whsec_x");
    await userEvent.click(screen.getByRole("button", { name: "Connect" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/^this firm already has a stripe connection for account acct_1$/);
  });

  it("edits an existing config without credentials", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(
      <ConnectionForm
        configSchema={configSchema}
        initial={{ display_name: "Stripe", sync_interval_minutes: 30, config: { account_id: "acct_9", reads_per_second: 5 } }}
        submitLabel="Save changes"
        onSubmit={onSubmit}
      />,
    );
    expect(screen.queryByLabelText(/^Webhook signing secret/)).toBeNull();
    await userEvent.clear(screen.getByLabelText(/^Read requests per second/));
    await userEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect(onSubmit).toHaveBeenCalledWith({
      display_name: "Stripe",
      sync_interval_minutes: 30,
      config: { account_id: "acct_9", api_base_url: "https://api.stripe.com", reads_per_second: null, live: true },
    });
  });
});
