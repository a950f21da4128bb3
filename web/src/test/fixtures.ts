// Response bodies of the mocked API, typed by the generated schema so they keep its shape.
import type { Category, Dashboard, FeatureList, FeatureName, Goal, GoalProgress, QuickStats } from "@/api/types";

export const WORK = "00000000-0000-4000-8000-0000000000c1";
export const HEALTH = "00000000-0000-4000-8000-0000000000c2";

export const categories: Category[] = [
  { category_id: HEALTH, name: "Health", color: null },
  { category_id: WORK, name: "Work", color: "#2563eb" },
];

export const goal: Goal = {
  goal_id: "3f1c2a9e-6b7d-4c1e-9a51-2b8f0f6d9e10",
  name: "Deep work",
  target_type: "minutes",
  target_value: 600,
  time_period: "weekly",
  category_id: WORK,
  is_active: true,
  created_at: "2025-03-03T09:00:00Z",
  updated_at: "2025-03-03T09:00:00Z",
};

export const progress: GoalProgress = {
  goal_id: goal.goal_id,
  name: goal.name,
  target_type: "minutes",
  target_value: 600,
  time_period: "weekly",
  category_id: WORK,
  period: { start: "2025-03-03", end: "2025-03-09" },
  achieved_value: 420,
  percent_complete: 70,
  status: "on_track",
};

export const totals = {
  total_scheduled_minutes: 360,
  completed_tasks_count: 4,
  focus_minutes: 90,
  focus_time_utilization: 0.3333333333333333,
  top_category: { category_id: HEALTH, name: "Health", minutes: 150 },
  streak_days_completed: 1,
  completion_rate: 0.8,
};

export const quickStats: QuickStats = {
  view_context: "calendar",
  range: { start_date: "2025-03-03", end_date: "2025-03-09" },
  data_as_of: "2025-03-10T02:00:00Z",
  ...totals,
};

export const emptyQuickStats: QuickStats = {
  ...quickStats,
  total_scheduled_minutes: 0,
  completed_tasks_count: 0,
  focus_minutes: 0,
  focus_time_utilization: null,
  top_category: null,
  streak_days_completed: 0,
  completion_rate: null,
};

const DAYS = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08", "2025-03-09"];
const SCHEDULED = [150, 60, 60, 30, 0, 0, 60];

export function dashboardOf(startDate: string, categoryId: string | null): Dashboard {
  const factor = categoryId ? 0.5 : 1;
  const trends = DAYS.map((date, i) => ({
    date,
    scheduled_minutes: SCHEDULED[i]! * factor,
    focus_minutes: i === 0 ? 60 * factor : 0,
    completed_tasks_count: i === 0 ? 1 : 0,
  }));
  const total = trends.reduce((sum, day) => sum + day.scheduled_minutes, 0);
  return {
    period: "weekly",
    category_id: categoryId,
    range: { start_date: startDate, end_date: DAYS[6]! },
    data_as_of: "2025-03-10T02:00:00Z",
    totals: { ...totals, total_scheduled_minutes: total },
    category_distribution: [{ category_id: categoryId, name: categoryId ? "Work" : "Uncategorized", minutes: total, share: 1 }],
    trends,
    goals: [progress],
  };
}

/** GET /api/v1/features with every feature on except those named. */
export function featuresWithout(...off: FeatureName[]): FeatureList {
  return { features: (["goals", "dashboard", "export"] as const).map((name) => ({ name, enabled: !off.includes(name) })) };
}
