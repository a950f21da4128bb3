// Sign-in: the app shows its pages only with a token (from #token= or pasted); a 401 brings the paste box back.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useState } from "react";

import { setUnauthorizedHandler } from "@/lib/api-client";
import { adoptTokenFromFragment, readToken, storeToken } from "@/lib/auth";

export function AuthGate({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState<string | null>(() => {
    adoptTokenFromFragment();
    return readToken();
  });
  const [message, setMessage] = useState<string | null>(null);
  // Set at once as well as in the effect (which runs after the children's): the first request may be refused.
  const [onRefused] = useState(() => {
    const handler = (detail: string) => {
      setToken(null);
      setMessage((shown) => shown ?? `Your token was refused (${detail}). Paste a new one to sign in again.`);
    };
    setUnauthorizedHandler(handler);
    return handler;
  });
  useEffect(() => {
    setUnauthorizedHandler(onRefused);
    return () => setUnauthorizedHandler(() => undefined);
  }, [onRefused]);

  if (token) return <>{children}</>;

  const signIn = (pasted: string) => {
    storeToken(pasted);
    setMessage(null);
    queryClient.clear();
    setToken(pasted.trim());
  };
  return <SignIn message={message} onSignIn={signIn} />;
}

function SignIn({ message, onSignIn }: { message: string | null; onSignIn: (token: string) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) {
      setError("Paste the token that `pulse token --user <id|email>` printed.");
      return;
    }
    onSignIn(value);
  };
  return (
    <main className="signin">
      <h1>Sign in to Pulse</h1>
      {message && (
        <p role="alert" className="alert">
          {message}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">Access token</label>
        <textarea
          id="token"
          rows={4}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          aria-describedby="token-help"
          aria-invalid={error ? true : undefined}
        />
        <p id="token-help" className="muted">
          Run <code>pulse token --user you@example.com</code> and paste the token it prints.
        </p>
        {error && <p className="field-error">{error}</p>}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
