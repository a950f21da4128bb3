// Query and mutation hooks of the goals feature; a change to a goal invalidates goals, progress and dashboards.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { createGoal, deleteGoal, getGoalProgress, getGoals, updateGoal } from "@/api/goals";
import type { GoalCreate, GoalUpdate, TimePeriod } from "@/api/types";

export function useGoals() {
  return useQuery({ queryKey: ["goals"], queryFn: getGoals });
}

export function useGoalProgress(period: TimePeriod) {
  return useQuery({ queryKey: ["goal-progress", period], queryFn: () => getGoalProgress(period) });
}

function useInvalidateGoals() {
  const client = useQueryClient();
  return () =>
    Promise.all(
      ["goals", "goal-progress", "dashboard"].map((key) => client.invalidateQueries({ queryKey: [key] })),
    );
}

export function useCreateGoal() {
  const invalidate = useInvalidateGoals();
  return useMutation({ mutationFn: (body: GoalCreate) => createGoal(body), onSuccess: invalidate });
}

export function useUpdateGoal() {
  const invalidate = useInvalidateGoals();
  return useMutation({
    mutationFn: ({ goalId, body }: { goalId: string; body: GoalUpdate }) => updateGoal(goalId, body),
    onSuccess: invalidate,
  });
}

export function useDeleteGoal() {
  const invalidate = useInvalidateGoals();
  return useMutation({ mutationFn: (goalId: string) => deleteGoal(goalId), onSuccess: invalidate });
}
