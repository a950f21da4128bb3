// Typed client of the goals endpoints (/api/v1/goals, /goals/progress) and of the categories list.
import { api, unwrap } from "@/lib/api-client";
import type { Category, Goal, GoalCreate, GoalProgress, GoalUpdate, TimePeriod } from "@/api/types";

export async function getGoals(): Promise<Goal[]> {
  return unwrap(await api.GET("/api/v1/goals"));
}

export async function createGoal(body: GoalCreate): Promise<Goal> {
  return unwrap(await api.POST("/api/v1/goals", { body }));
}

export async function updateGoal(goalId: string, body: GoalUpdate): Promise<Goal> {
  return unwrap(await api.PUT("/api/v1/goals/{goal_id}", { params: { path: { goal_id: goalId } }, body }));
}

export async function deleteGoal(goalId: string): Promise<void> {
  unwrap(await api.DELETE("/api/v1/goals/{goal_id}", { params: { path: { goal_id: goalId } } }));
}

export async function getGoalProgress(period: TimePeriod, startDate?: string): Promise<GoalProgress[]> {
  return unwrap(
    await api.GET("/api/v1/goals/progress", {
      params: { query: { period, ...(startDate ? { start_date: startDate } : {}) } },
    }),
  );
}

export async function getCategories(): Promise<Category[]> {
  return unwrap(await api.GET("/api/v1/categories"));
}
