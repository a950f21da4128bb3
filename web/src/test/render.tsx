// Renders a component as the app does: providers (a fresh query client without retries), a router, a token.
import { QueryClient } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { RouterProvider, createMemoryRouter } from "react-router-dom";

import { AppProvider } from "@/app/provider";
import { storeToken } from "@/lib/auth";

export function renderWithApp(ui: ReactElement, { route = "/", token = "test-token" }: { route?: string; token?: string | null } = {}) {
  if (token) storeToken(token);
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const router = createMemoryRouter([{ path: "*", element: ui }], { initialEntries: [route] });
  const result = render(
    <AppProvider client={client}>
      <RouterProvider router={router} />
    </AppProvider>,
  );
  return { ...result, router, client };
}
