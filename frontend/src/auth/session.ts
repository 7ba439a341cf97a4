/**
 * The signed-in session: access and refresh tokens in localStorage (one origin, CSP from the API; see
 * ADR 0017). A refresh is shared by every request that hit a 401 at the same moment.
 */
const KEY = "firmsync.session";

export interface Tokens {
  access_token: string;
  refresh_token: string;
  firm_id: string;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let refreshing: Promise<string | null> | null = null;

function read(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

function notify() {
  for (const l of listeners) l();
}

export const session = {
  current: read,
  accessToken: () => read()?.access_token ?? null,
  isSignedIn: () => read() !== null,
  start(tokens: Tokens) {
    localStorage.setItem(KEY, JSON.stringify(tokens));
    notify();
  },
  /** Signed out by the user or by a refresh token the API no longer accepts. */
  expire() {
    localStorage.removeItem(KEY);
    notify();
  },
  subscribe(listener: Listener) {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
  refresh(): Promise<string | null> {
    const tokens = read();
    if (!tokens) return Promise.resolve(null);
    refreshing ??= fetch("/api/v1/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    })
      .then(async (r) => {
        if (!r.ok) return null;
        const body = (await r.json()) as { access_token: string; refresh_token: string; firm: { id: string } };
        session.start({ access_token: body.access_token, refresh_token: body.refresh_token, firm_id: body.firm.id });
        return body.access_token;
      })
      .catch(() => null)
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  },
};
