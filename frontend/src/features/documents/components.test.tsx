import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../api/client";
import { renderWithProviders } from "../../test/render";
import { fileSize, FolderForm, UploadForm } from "./components";
import { StorageUploadError } from "./upload";

const chooseFile = async (container: HTMLElement, file: File) =>
  userEvent.upload(container.querySelector('input[type="file"]') as HTMLInputElement, file);

describe("UploadForm", () => {
  it("asks for a file before uploading anything", async () => {
    const upload = vi.fn();
    renderWithProviders(<UploadForm withClient={false} submitLabel="Upload" upload={upload} onCancel={() => {}} />);
    await userEvent.click(screen.getByRole("button", { name: "Upload" }));
    expect(upload).not.toHaveBeenCalled();
    expect(screen.getByText("Choose a file to upload")).toBeInTheDocument();
  });

  it("shows each step while uploading and the storage's refusal when the PUT fails", async () => {
    let fail: (e: unknown) => void = () => {};
    const upload = vi.fn(
      (_input: unknown, onStep: (s: "uploading") => void) =>
        new Promise((_resolve, reject) => {
          onStep("uploading");
          fail = reject;
        }),
    );
    const { container } = renderWithProviders(
      <UploadForm withClient={false} submitLabel="Upload" upload={upload} onCancel={() => {}} />,
    );
    const file = new File(["hello"], "notes.txt", { type: "text/plain" });
    await chooseFile(container, file);
    await userEvent.click(screen.getByRole("button", { name: "Upload" }));
    expect(upload.mock.calls[0][0]).toEqual({ file, clientId: null });
    expect(await screen.findByText("Uploading to storage…")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Cancel" })).toBeDisabled();

    fail(new StorageUploadError("The document storage refused the file (HTTP 403 — AccessDenied)", 403));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Upload failed");
    expect(alert).toHaveTextContent("HTTP 403 — AccessDenied");
    expect(screen.getByRole("button", { name: "Cancel" })).toBeEnabled();
  });
});

describe("FolderForm", () => {
  it("sends the trimmed name and shows the API's message on the field", async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError(422, {
        title: "Validation Error",
        errors: [{ field: "name", message: "A folder with this name already exists here" }],
      }),
    );
    renderWithProviders(<FolderForm submitLabel="Create folder" onSubmit={onSubmit} onCancel={() => {}} />);
    await userEvent.type(screen.getByLabelText(/^Folder name/), "  Tax 2026 ");
    await userEvent.click(screen.getByRole("button", { name: "Create folder" }));
    expect(onSubmit).toHaveBeenCalledWith("Tax 2026");
    expect(await screen.findByText("A folder with this name already exists here")).toBeInTheDocument();
    expect(screen.getByLabelText(/^Folder name/)).toHaveAttribute("aria-invalid", "true");
  });

  it("refuses an empty name", async () => {
    const onSubmit = vi.fn();
    renderWithProviders(<FolderForm submitLabel="Create folder" onSubmit={onSubmit} onCancel={() => {}} />);
    await userEvent.click(screen.getByRole("button", { name: "Create folder" }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText("A folder needs a name")).toBeInTheDocument();
  });
});

describe("fileSize", () => {
  it("uses binary units", () => {
    expect(fileSize(512)).toBe("512 B");
    expect(fileSize(1536)).toBe("1.5 KB");
    expect(fileSize(5 * 1024 ** 2)).toBe("5.0 MB");
  });
});
