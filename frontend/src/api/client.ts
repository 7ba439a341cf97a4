/**
 * The typed API client: openapi-fetch over the types generated from core_api/openapi.json
 * (`npm run api:generate`; the suite fails when they drift). Every call goes through `api`, which adds
 * the bearer token, refreshes it once on a 401 and retries, and turns problem+json into ApiError.
 */
import createClient, { type Middleware } from "openapi-fetch";

import { session } from "../auth/session";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    const title = problem?.title ?? `HTTP ${status}`;
    super(problem?.detail ? `${title}: ${problem.detail}` : title);
    this.status = status;
    this.problem = { status, title, type: "about:blank", ...problem } as Problem;
  }

  /** Field-level messages keyed by the API's field path ("name", "lines.0.quantity", "query.limit"). */
  get fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.problem.errors ?? []) out[e.field] = out[e.field] ? `${out[e.field]}; ${e.message}` : e.message;
    return out;
  }
}

const pending = new WeakMap<Request, Request>();

const authMiddleware = (fetchFn: (input: Request) => Promise<Response>): Middleware => ({
  onRequest({ request }) {
    const token = session.accessToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    // Keep an unread copy: a 401 is retried once with a refreshed token.
    pending.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const copy = pending.get(request);
    pending.delete(request);
    if (response.status !== 401 || !copy || request.url.includes("/auth/")) return response;
    const token = await session.refresh();
    if (!token) {
      session.expire();
      return response;
    }
    copy.headers.set("Authorization", `Bearer ${token}`);
    return fetchFn(copy);
  },
});

/**
 * A typed client with the bearer-token middleware over the given fetch: `api` uses the browser's; code whose
 * HTTP calls are tested against a fake fetch (e.g. document uploads) takes one as an argument.
 */
export function createApiClient(fetchFn: (input: Request) => Promise<Response> = (r) => globalThis.fetch(r)) {
  // Same origin; absolute so that a Request can be built outside a page (Vitest).
  const c = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "", fetch: fetchFn });
  c.use(authMiddleware(fetchFn));
  return c;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export const client = createApiClient();

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a call, or an ApiError carrying its problem+json. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error as Partial<Problem> | undefined);
  return data as T;
}

export const api = client;
