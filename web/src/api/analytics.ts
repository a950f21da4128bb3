// Typed client of the analytics endpoints: quick stats, the dashboard and the CSV export.
import { api, fetchWithToken, unwrap } from "@/lib/api-client";
import type { Dashboard, DashboardPeriod, DateRangePreset, QuickStats, ViewContext } from "@/api/types";

export type QuickStatsParams = { viewContext?: ViewContext } & (
  | { preset: DateRangePreset }
  | { startDate: string; endDate: string }
);

export async function getQuickStats(params: QuickStatsParams): Promise<QuickStats> {
  const range =
    "preset" in params ? { date_range: params.preset } : { start_date: params.startDate, end_date: params.endDate };
  return unwrap(
    await api.GET("/api/v1/analytics/quick-stats", {
      params: { query: { view_context: params.viewContext ?? "calendar", ...range } },
    }),
  );
}

export interface DashboardParams {
  period: DashboardPeriod;
  startDate?: string;
  categoryId?: string;
}

export async function getDashboard({ period, startDate, categoryId }: DashboardParams): Promise<Dashboard> {
  return unwrap(
    await api.GET("/api/v1/analytics/dashboard", {
      params: {
        query: {
          period,
          ...(startDate ? { start_date: startDate } : {}),
          ...(categoryId ? { category_id: categoryId } : {}),
        },
      },
    }),
  );
}

export interface CsvExport {
  filename: string;
  blob: Blob;
}

/** The CSV of a date range (inclusive), with the file name the server suggests. */
export async function exportAnalytics(startDate: string, endDate: string): Promise<CsvExport> {
  const query = new URLSearchParams({ format: "csv", start_date: startDate, end_date: endDate });
  const response = await fetchWithToken(`/api/v1/analytics/export?${query}`);
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `pulse-${startDate}-${endDate}.csv`;
  return { filename, blob: await response.blob() };
}
