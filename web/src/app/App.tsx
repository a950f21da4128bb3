// The application: providers around the router. With a token, the features' request (and on the dashboard's
// address, the dashboard's) starts before the first render, in parallel with the rest of the page's work.
import { useState } from "react";

import { prefetchDashboard } from "@/features/analytics/queries";
import { prefetchFeatures } from "@/hooks/useFeatures";
import { adoptTokenFromFragment, readToken } from "@/lib/auth";

import { AppProvider, createQueryClient } from "./provider";
import { AppRouter } from "./router";

export function App() {
  const [client] = useState(() => {
    const queryClient = createQueryClient();
    adoptTokenFromFragment();
    if (readToken()) {
      prefetchFeatures(queryClient);
      if (window.location.pathname === "/") prefetchDashboard(queryClient, new URLSearchParams(window.location.search));
    }
    return queryClient;
  });
  return (
    <AppProvider client={client}>
      <AppRouter />
    </AppProvider>
  );
}
