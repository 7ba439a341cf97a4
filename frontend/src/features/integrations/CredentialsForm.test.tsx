import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { CredentialsForm } from "./CredentialsForm";
import type { JsonSchema } from "./schema";

const credentialsSchema: JsonSchema = {
  type: "object",
  required: ["api_key"],
  properties: {
    api_key: {
      type: "string",
      format: "password",
      writeOnly: true,
      title: "API key",
    },
    webhook_signing_secret: {
      anyOf: [
        { type: "string", format: "password", writeOnly: true },
        { type: "null" },
      ],
      default: null,
      title: "Webhook signing secret",
    },
  },
};

describe("CredentialsForm", { timeout: 20_000 }, () => {
  it("requires the schema's required fields and sends only the credentials", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    renderWithProviders(
      <CredentialsForm
        credentialsSchema={credentialsSchema}
        onSubmit={onSubmit}
      />,
    );
    const user = userEvent.setup();
    await user.click(
      screen.getByRole("button", { name: "Replace credentials" }),
    );
    expect(onSubmit).not.toHaveBeenCalled();

    await user.type(screen.getByLabelText(/API key/), "rk_live_new");
    await user.click(
      screen.getByRole("button", { name: "Replace credentials" }),
    );
    expect(onSubmit).toHaveBeenCalledWith({
      api_key: "rk_live_new",
      webhook_signing_secret: null,
    });
  });

  it("puts the API's credentials.* messages on their fields", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        detail: "credentials: invalid",
        errors: [
          {
            field: "credentials.api_key",
            message: "Value error, not a secret key",
          },
        ],
      }),
    );
    renderWithProviders(
      <CredentialsForm
        credentialsSchema={credentialsSchema}
        onSubmit={onSubmit}
      />,
    );
    const user = userEvent.setup();
    await user.type(screen.getByLabelText(/API key/), "pk_oops");
    await user.click(
      screen.getByRole("button", { name: "Replace credentials" }),
    );
    expect(
      await screen.findByText("Value error, not a secret key"),
    ).toBeInTheDocument();
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
