import { describe, expect, it } from "vitest";

import { ApiError } from "../../api/client";
import { sha256Hex, StorageUploadError, uploadNewDocument, uploadVersion, type UploadStep } from "./upload";

const DOC = "11111111-1111-4111-8111-111111111111";
const VER = "22222222-2222-4222-8222-222222222222";
const FOLDER = "33333333-3333-4333-8333-333333333333";
const PUT_URL = "http://127.0.0.1:8901/firmsync-documents/firms/x/documents/d/v?X-Amz-Signature=abc";

interface Call {
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const version = (status = "available") => ({
  id: VER,
  document_id: DOC,
  number: status === "available" ? 1 : null,
  status,
  size_bytes: 5,
  checksum_sha256: "a".repeat(64),
  content_type: "text/plain",
  uploaded_by: null,
  created_at: "2026-12-01T10:00:00Z",
  completed_at: null,
  rejection_reason: null,
});

/** A fake server: routes by method + path, records every request it saw (bodies read as text). */
function fakeFetch(overrides: { put?: () => Response | Promise<Response>; createVersion?: () => Response } = {}) {
  const calls: Call[] = [];
  const fetch = async (request: Request) => {
    const url = new URL(request.url);
    calls.push({ method: request.method, url: request.url, headers: request.headers, body: await request.text() });
    const key = `${request.method} ${url.pathname}`;
    if (key === "POST /api/v1/documents")
      return json(201, { id: DOC, folder_id: FOLDER, name: "notes.txt", version: 1, current_version: null });
    if (key === `POST /api/v1/documents/${DOC}/versions`)
      return (
        overrides.createVersion?.() ??
        json(201, {
          version: version("pending"),
          upload: {
            method: "PUT",
            url: PUT_URL,
            headers: { "Content-Type": "text/plain", "x-amz-checksum-sha256": "qqqq", "If-None-Match": "*" },
            expires_at: "2026-12-01T11:00:00Z",
          },
        })
      );
    if (request.method === "PUT" && url.port === "8901") return overrides.put?.() ?? new Response(null, { status: 200 });
    if (key === `POST /api/v1/documents/${DOC}/versions/${VER}/complete`) return json(200, version());
    if (key === `DELETE /api/v1/documents/${DOC}`) return new Response(null, { status: 204 });
    return json(404, { title: "Not found", status: 404 });
  };
  return { fetch, calls };
}

const file = () => new File(["hello"], "notes.txt", { type: "text/plain" });
const hash = async () => "ab".repeat(32);

describe("sha256Hex", () => {
  it("hashes the bytes as lowercase hex", async () => {
    expect(await sha256Hex(new Blob(["abc"]))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});

describe("uploadNewDocument", () => {
  it("creates the document, declares the version, PUTs with exactly the presigned headers, completes", async () => {
    const { fetch, calls } = fakeFetch();
    const steps: UploadStep[] = [];
    const result = await uploadNewDocument(
      { folderId: FOLDER, file: file(), clientId: "" },
      { fetch, hash, onStep: (s) => steps.push(s) },
    );
    expect(result.version.status).toBe("available");
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`)).toEqual([
      "POST /api/v1/documents",
      `POST /api/v1/documents/${DOC}/versions`,
      "PUT /firmsync-documents/firms/x/documents/d/v",
      `POST /api/v1/documents/${DOC}/versions/${VER}/complete`,
    ]);
    expect(JSON.parse(calls[0].body)).toEqual({
      folder_id: FOLDER,
      name: "notes.txt",
      client_id: null,
      content_type: "text/plain",
    });
    expect(JSON.parse(calls[1].body)).toEqual({
      size_bytes: 5,
      checksum_sha256: "ab".repeat(32),
      content_type: "text/plain",
    });
    const put = calls[2];
    expect(put.url).toBe(PUT_URL);
    expect(put.headers.get("x-amz-checksum-sha256")).toBe("qqqq");
    expect(put.headers.get("if-none-match")).toBe("*");
    expect(put.headers.get("content-type")).toBe("text/plain");
    expect(put.headers.get("authorization")).toBeNull(); // the bearer token never goes to S3
    expect(put.body).toBe("hello");
    expect(steps).toEqual(["registering", "hashing", "registering", "uploading", "verifying", "done"]);
  });

  it("reports a refused PUT (e.g. CORS), does not complete, and removes the empty document", async () => {
    const { fetch, calls } = fakeFetch({
      put: () => Promise.reject(new TypeError("Failed to fetch")),
    });
    const error = await uploadNewDocument({ folderId: FOLDER, file: file() }, { fetch, hash }).catch((e) => e);
    expect(error).toBeInstanceOf(StorageUploadError);
    expect(error.message).toMatch(/cross-origin/);
    const paths = calls.map((c) => `${c.method} ${new URL(c.url).pathname}`);
    expect(paths).not.toContain(`POST /api/v1/documents/${DOC}/versions/${VER}/complete`);
    expect(paths.at(-1)).toBe(`DELETE /api/v1/documents/${DOC}`);
  });

  it("shows S3's error code when storage answers with an error", async () => {
    const { fetch } = fakeFetch({
      put: () =>
        new Response("<Error><Code>SignatureDoesNotMatch</Code><Message>bad sig</Message></Error>", { status: 403 }),
    });
    const error = await uploadNewDocument({ folderId: FOLDER, file: file() }, { fetch, hash }).catch((e) => e);
    expect(error).toBeInstanceOf(StorageUploadError);
    expect(error.status).toBe(403);
    expect(error.message).toContain("HTTP 403 — SignatureDoesNotMatch: bad sig");
  });
});

describe("uploadVersion", () => {
  it("surfaces the API's problem when the version cannot be declared", async () => {
    const { fetch, calls } = fakeFetch({
      createVersion: () => json(503, { title: "Document storage unavailable", status: 503 }),
    });
    const error = await uploadVersion(DOC, file(), { fetch, hash }).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(503);
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
  });
});
