// The bearer token: taken from the URL fragment (#token=...) or pasted, kept in sessionStorage for this tab.
const STORAGE_KEY = "pulse.token";

export function readToken(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string): void {
  window.sessionStorage.setItem(STORAGE_KEY, token.trim());
}

export function clearToken(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}

/** Moves a `#token=<jwt>` fragment into sessionStorage and removes it from the address bar. */
export function adoptTokenFromFragment(): void {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  if (!token) return;
  storeToken(token);
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, "", pathname + search);
}
