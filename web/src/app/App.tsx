// The application: providers around the router. On the dashboard's address with a token, the dashboard's
// request starts before the first render, in parallel with the rest of the page's work.
import { useState } from "react";

import { prefetchDashboard } from "@/features/analytics/queries";
import { adoptTokenFromFragment, readToken } from "@/lib/auth";

import { AppProvider, createQueryClient } from "./provider";
import { AppRouter } from "./router";

export function App() {
  const [client] = useState(() => {
    const queryClient = createQueryClient();
    adoptTokenFromFragment();
    if (window.location.pathname === "/" && readToken()) {
      prefetchDashboard(queryClient, new URLSearchParams(window.location.search));
    }
    return queryClient;
  });
  return (
    <AppProvider client={client}>
      <AppRouter />
    </AppProvider>
  );
}
