// The goal form's rules (SPEC section 3), checked before the API sees the goal.
import type { GoalCreate, TargetType, TimePeriod } from "@/api/types";

export interface GoalFormValues {
  name: string;
  targetType: TargetType;
  targetValue: string;
  period: TimePeriod;
  categoryId: string;
}

export type GoalFormErrors = Partial<Record<keyof GoalFormValues, string>>;

export const TARGET_HELP: Record<TargetType, string> = {
  minutes: "Minutes of scheduled time in the period (of the category, if you pick one).",
  percentage: "Share of the period's scheduled time spent in one category, in percent (needs a category, at most 100).",
  task_count: "Number of tasks completed in the period (of the category, if you pick one).",
};

const MAX_TARGET = 2_147_483_647;

export function validateGoal(values: GoalFormValues): GoalFormErrors {
  const errors: GoalFormErrors = {};
  if (!values.name.trim()) errors.name = "Give the goal a name.";
  else if (values.name.length > 200) errors.name = "At most 200 characters.";
  const target = Number(values.targetValue);
  if (!values.targetValue.trim()) errors.targetValue = "Enter a target.";
  else if (!/^\d+$/.test(values.targetValue.trim()) || target <= 0) errors.targetValue = "A whole number above 0.";
  else if (target > MAX_TARGET) errors.targetValue = "That target is too large.";
  else if (values.targetType === "percentage" && target > 100) errors.targetValue = "A percentage is at most 100.";
  if (values.targetType === "percentage" && !values.categoryId) errors.categoryId = "A percentage goal needs a category.";
  return errors;
}

export function toGoalBody(values: GoalFormValues): GoalCreate {
  return {
    name: values.name.trim(),
    target_type: values.targetType,
    target_value: Number(values.targetValue),
    time_period: values.period,
    category_id: values.categoryId || null,
  };
}
