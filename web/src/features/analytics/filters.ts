// Dashboard filters <-> URL query (`period`, `start_date`, `category_id`), so a view can be bookmarked and shared.
import { addDays, format, parseISO, subDays } from "date-fns";

import type { DashboardPeriod } from "@/api/types";

export interface DashboardFilters {
  period: DashboardPeriod;
  startDate?: string;
  categoryId?: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function filtersFromSearch(search: URLSearchParams): DashboardFilters {
  const period = search.get("period") === "monthly" ? "monthly" : "weekly";
  const start = search.get("start_date");
  const category = search.get("category_id");
  return {
    period,
    ...(start && ISO_DATE.test(start) ? { startDate: start } : {}),
    ...(category ? { categoryId: category } : {}),
  };
}

export function searchFromFilters(filters: DashboardFilters): URLSearchParams {
  const search = new URLSearchParams({ period: filters.period });
  if (filters.startDate) search.set("start_date", filters.startDate);
  if (filters.categoryId) search.set("category_id", filters.categoryId);
  return search;
}

/** A date inside the period before (-1) or after (+1) the one shown, from the shown period's range. */
export function neighbourStart(range: { start_date: string; end_date: string }, step: -1 | 1): string {
  const day = step < 0 ? subDays(parseISO(range.start_date), 1) : addDays(parseISO(range.end_date), 1);
  return format(day, "yyyy-MM-dd");
}
