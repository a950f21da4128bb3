// The one configured API client: typed by the generated OpenAPI types, with the bearer token on every
// request. A 401 clears the token and tells the app (the sign-in box comes back).
import createClient, { type Middleware } from "openapi-fetch";

import type { paths } from "@/api/schema";
import { clearToken, readToken } from "@/lib/auth";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Unauthorized = (message: string) => void;
let onUnauthorized: Unauthorized = () => undefined;

/** Who to tell when the API refuses the token (the auth provider sets it). */
export function setUnauthorizedHandler(handler: Unauthorized): void {
  onUnauthorized = handler;
}

const authMiddleware: Middleware = {
  onRequest({ request }) {
    const token = readToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

// fetch is looked up per request (not captured once), so test mocks of it (MSW) are seen.
export const api = createClient<paths>({ baseUrl: window.location.origin, fetch: (request) => globalThis.fetch(request) });
api.use(authMiddleware);

/** The message of an error body (`{"detail": "..."}` or FastAPI's list of field errors). */
export function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((item: { loc?: unknown[]; msg?: string }) => `${(item.loc ?? []).slice(1).join(".")}: ${item.msg ?? ""}`)
        .join("; ");
    }
  }
  return `the server answered ${status}`;
}

/** The data of an openapi-fetch result, or an ApiError (a 401 also signs out). */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { response } = result;
  if (!response.ok) {
    const message = errorMessage(result.error, response.status);
    if (response.status === 401) {
      clearToken();
      onUnauthorized(message);
    }
    throw new ApiError(response.status, message);
  }
  return result.data as T;
}

/** Fetch with the bearer token, for responses that are not JSON (the CSV export). */
export async function fetchWithToken(path: string): Promise<Response> {
  const token = readToken();
  const response = await fetch(new URL(path, window.location.origin), {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      /* not JSON */
    }
    const message = errorMessage(body, response.status);
    if (response.status === 401) {
      clearToken();
      onUnauthorized(message);
    }
    throw new ApiError(response.status, message);
  }
  return response;
}
