// Query hooks of the analytics feature: one TanStack Query key per resource and parameters.
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";

import {
  type DashboardParams,
  type QuickStatsParams,
  exportAnalytics,
  getDashboard,
  getQuickStats,
} from "@/api/analytics";

export function useDashboard(params: DashboardParams) {
  return useQuery({
    queryKey: ["dashboard", params.period, params.startDate ?? null, params.categoryId ?? null],
    queryFn: () => getDashboard(params),
    placeholderData: keepPreviousData,
  });
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
