// Query hooks of the analytics feature: one TanStack Query key per resource and parameters.
import { type QueryClient, useMutation, useQuery } from "@tanstack/react-query";

import {
  type DashboardParams,
  type QuickStatsParams,
  exportAnalytics,
  getDashboard,
  getQuickStats,
} from "@/api/analytics";

import { filtersFromSearch } from "./filters";

export function dashboardQuery(params: DashboardParams) {
  return {
    queryKey: ["dashboard", params.period, params.startDate ?? null, params.categoryId ?? null],
    queryFn: () => getDashboard(params),
  };
}

/** No placeholder from the previous filters: figures of other filters never show under the new ones. */
export function useDashboard(params: DashboardParams) {
  return useQuery(dashboardQuery(params));
}

export function useQuickStats(params: QuickStatsParams) {
  return useQuery({ queryKey: ["quick-stats", params], queryFn: () => getQuickStats(params) });
}

/** Downloads the CSV of a date range through a temporary link. */
export function useExport() {
  return useMutation({
    mutationFn: async ({ startDate, endDate }: { startDate: string; endDate: string }) => {
      const { filename, blob } = await exportAnalytics(startDate, endDate);
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      return filename;
    },
  });
}

/** Starts the dashboard's request of a URL's filters at once (before the page's code has rendered). */
export function prefetchDashboard(client: QueryClient, search: URLSearchParams): void {
  void client.prefetchQuery(dashboardQuery(filtersFromSearch(search)));
}
