/**
 * Document uploads through presigned URLs (core_api/documents):
 *   1. (new document) POST /documents → the record;
 *   2. POST /documents/{id}/versions with the size, SHA-256 and type → a pending version + a presigned PUT;
 *   3. PUT the bytes straight to S3 with exactly the returned headers;
 *   4. POST …/versions/{vid}/complete → the server verifies the object and makes the version current.
 * Every HTTP call goes through the `fetch` passed in, so the steps are tested against a fake one.
 */
import { ApiError, createApiClient, type Schemas, unwrap } from "../../api/client";

export type UploadStep = "hashing" | "registering" | "uploading" | "verifying" | "done";

export const STEP_LABEL: Record<UploadStep, string> = {
  hashing: "Reading the file…",
  registering: "Preparing the upload…",
  uploading: "Uploading to storage…",
  verifying: "Verifying the upload…",
  done: "Uploaded",
};

export interface UploadDeps {
  fetch: (input: Request) => Promise<Response>;
  /** The raw PUT to storage (defaults to `fetch`); a browser cannot set Content-Length, the body fixes it. */
  put?: (url: string, init: RequestInit) => Promise<Response>;
  onStep?: (step: UploadStep) => void;
  /** Hex SHA-256 of the content (Web Crypto by default). */
  hash?: (file: Blob) => Promise<string>;
}

/** The storage PUT failed: network or CORS refusal (status undefined) or an S3 error response. */
export class StorageUploadError extends Error {
  readonly status?: number;
  constructor(message: string, status?: number) {
    super(message);
    this.name = "StorageUploadError";
    this.status = status;
  }
}

function readBytes(file: Blob): Promise<ArrayBuffer> {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as ArrayBuffer);
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(await readBytes(file)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function contentTypeOf(file: Blob): string {
  return file.type ? file.type.toLowerCase() : "application/octet-stream";
}

/** S3 answers errors as XML: <Error><Code>…</Code><Message>…</Message></Error>. */
function s3Message(body: string): string | null {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  return code || message ? [code, message].filter(Boolean).join(": ") : null;
}

async function putToStorage(upload: Schemas["PresignedUpload"], file: Blob, deps: UploadDeps): Promise<void> {
  const put = deps.put ?? ((url: string, init: RequestInit) => deps.fetch(new Request(url, init)));
  let response: Response;
  try {
    response = await put(upload.url, { method: upload.method, headers: upload.headers, body: file });
  } catch (error) {
    // fetch rejects with a TypeError on network failures and on CORS refusals (the browser hides which).
    throw new StorageUploadError(
      `Could not reach the document storage (network error or the storage refused this site's cross-origin request): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  if (!response.ok) {
    const detail = s3Message(await response.text().catch(() => ""));
    throw new StorageUploadError(
      `The document storage refused the file (HTTP ${response.status}${detail ? ` — ${detail}` : ""})`,
      response.status,
    );
  }
}

/** Upload `file` as a new version of an existing document; resolves with the completed version. */
export async function uploadVersion(
  documentId: string,
  file: Blob,
  deps: UploadDeps,
): Promise<Schemas["DocumentVersionOut"]> {
  const api = createApiClient(deps.fetch);
  deps.onStep?.("hashing");
  const checksum = await (deps.hash ?? sha256Hex)(file);
  deps.onStep?.("registering");
  const created = await unwrap(
    api.POST("/api/v1/documents/{document_id}/versions", {
      params: { path: { document_id: documentId } },
      body: { size_bytes: file.size, checksum_sha256: checksum, content_type: contentTypeOf(file) },
    }),
  );
  deps.onStep?.("uploading");
  await putToStorage(created.upload, file, deps);
  deps.onStep?.("verifying");
  const version = await unwrap(
    api.POST("/api/v1/documents/{document_id}/versions/{version_id}/complete", {
      params: { path: { document_id: documentId, version_id: created.version.id } },
    }),
  );
  deps.onStep?.("done");
  return version;
}

/**
 * Create a document in `folderId` named after the file and upload its first version. When the upload fails
 * the just-created (empty) document is deleted again, so a retry does not leave a versionless twin.
 */
export async function uploadNewDocument(
  input: { folderId: string; file: File; clientId?: string | null; name?: string },
  deps: UploadDeps,
): Promise<{ document: Schemas["DocumentOut"]; version: Schemas["DocumentVersionOut"] }> {
  const api = createApiClient(deps.fetch);
  deps.onStep?.("registering");
  const document = await unwrap(
    api.POST("/api/v1/documents", {
      body: {
        folder_id: input.folderId,
        name: input.name?.trim() || input.file.name,
        client_id: input.clientId || null,
        content_type: contentTypeOf(input.file),
      },
    }),
  );
  try {
    const version = await uploadVersion(document.id, input.file, deps);
    return { document, version };
  } catch (error) {
    await api
      .DELETE("/api/v1/documents/{document_id}", { params: { path: { document_id: document.id } } })
      .catch(() => undefined);
    throw error;
  }
}

export function uploadErrorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
