// The goals page: the creation form, the list of goals (edit, delete with confirmation, status badges) and
// progress bars of the current period.
import { useState } from "react";
import { toast } from "sonner";

import type { Goal, GoalProgress, TimePeriod } from "@/api/types";
import { GoalProgressCard } from "@/components/GoalProgressCard";
import { Skeleton } from "@/components/Skeleton";
import { StatusBadge } from "@/components/StatusBadge";
import { useCategories } from "@/hooks/useCategories";
import { formatTarget } from "@/lib/format";

import { GoalForm } from "./GoalForm";
import { useCreateGoal, useDeleteGoal, useGoalProgress, useGoals, useUpdateGoal } from "./queries";
import { type GoalFormValues, toGoalBody } from "./validation";

const PERIODS: TimePeriod[] = ["daily", "weekly", "monthly"];

function useCurrentProgress() {
  const daily = useGoalProgress("daily");
  const weekly = useGoalProgress("weekly");
  const monthly = useGoalProgress("monthly");
  const byGoal = new Map<string, GoalProgress>();
  for (const query of [daily, weekly, monthly]) for (const row of query.data ?? []) byGoal.set(row.goal_id, row);
  return { byGoal, isPending: daily.isPending || weekly.isPending || monthly.isPending };
}

export function Goals() {
  const categories = useCategories();
  const goals = useGoals();
  const progress = useCurrentProgress();
  const create = useCreateGoal();

  const createGoal = (values: GoalFormValues) =>
    create.mutateAsync(toGoalBody(values)).then((goal) => toast.success(`Goal “${goal.name}” created`));

  return (
    <div className="goals-page">
      <section className="card" aria-labelledby="new-goal">
        <h2 id="new-goal">New goal</h2>
        <GoalForm categories={categories.data ?? []} busy={create.isPending} onSubmit={createGoal} />
      </section>
      <section className="card" aria-labelledby="your-goals">
        <h2 id="your-goals">Your goals</h2>
        {goals.isPending ? (
          <div aria-busy="true">
            <Skeleton height="2.5rem" />
            <Skeleton height="2.5rem" />
          </div>
        ) : goals.error ? (
          <p role="alert" className="alert">
            Could not load your goals: {goals.error.message}
          </p>
        ) : goals.data.length === 0 ? (
          <p className="muted">No goals yet: create one above.</p>
        ) : (
          <ul className="goal-list">
            {goals.data.map((goal) => (
              <GoalListItem
                key={goal.goal_id}
                goal={goal}
                progress={progress.byGoal.get(goal.goal_id)}
                categories={categories.data ?? []}
              />
            ))}
          </ul>
        )}
      </section>
      <section>
        <h2>Current progress</h2>
        {progress.isPending ? (
          <Skeleton height="5rem" />
        ) : (
          PERIODS.map((period) => {
            const cards = (goals.data ?? [])
              .filter((goal) => goal.is_active && goal.time_period === period)
              .map((goal) => progress.byGoal.get(goal.goal_id))
              .filter((row): row is GoalProgress => row !== undefined);
            return cards.length === 0 ? null : (
              <div key={period}>
                <h3 className="period-title">{period[0]!.toUpperCase() + period.slice(1)}</h3>
                <div className="goal-cards">
                  {cards.map((row) => (
                    <GoalProgressCard key={row.goal_id} progress={row} />
                  ))}
                </div>
              </div>
            );
          })
        )}
      </section>
    </div>
  );
}

function GoalListItem({
  goal,
  progress,
  categories,
}: {
  goal: Goal;
  progress: GoalProgress | undefined;
  categories: { category_id: string; name: string; color: string | null }[];
}) {
  const [mode, setMode] = useState<"view" | "edit" | "confirm">("view");
  const update = useUpdateGoal();
  const remove = useDeleteGoal();
  const category = categories.find((c) => c.category_id === goal.category_id);

  if (mode === "edit") {
    const initial: GoalFormValues = {
      name: goal.name,
      targetType: goal.target_type,
      targetValue: String(goal.target_value),
      period: goal.time_period,
      categoryId: goal.category_id ?? "",
    };
    return (
      <li className="goal-list-item" data-testid="goal-list-item" data-goal-id={goal.goal_id}>
        <GoalForm
          categories={categories}
          initial={initial}
          submitLabel="Save goal"
          busy={update.isPending}
          onCancel={() => setMode("view")}
          onSubmit={(values) =>
            update.mutateAsync({ goalId: goal.goal_id, body: toGoalBody(values) }).then(() => {
              toast.success(`Goal “${values.name.trim()}” saved`);
              setMode("view");
            })
          }
        />
      </li>
    );
  }
  return (
    <li className="goal-list-item" data-testid="goal-list-item" data-goal-id={goal.goal_id}>
      <div className="goal-list-item__text">
        <strong>{goal.name}</strong>{" "}
        <span className="muted">
          {formatTarget(goal.target_type, goal.target_value)} · {goal.time_period}
          {category ? ` · ${category.name}` : ""}
          {goal.is_active ? "" : " · paused"}
        </span>{" "}
        {progress && <StatusBadge status={progress.status} />}
      </div>
      {mode === "confirm" ? (
        <div className="goal-list-item__actions" role="group">
          <span>Delete “{goal.name}”?</span>
          <button
            type="button"
            className="danger"
            disabled={remove.isPending}
            onClick={() =>
              remove.mutate(goal.goal_id, {
                onSuccess: () => toast.success(`Goal “${goal.name}” deleted`),
                onError: (error) => {
                  toast.error(`Could not delete: ${error.message}`);
                  setMode("view");
                },
              })
            }
          >
            Yes, delete
          </button>
          <button type="button" className="secondary" onClick={() => setMode("view")}>
            Keep it
          </button>
        </div>
      ) : (
        <div className="goal-list-item__actions">
          {/* Named by their content, not aria-label, so a goal's name never matches a form field's label. */}
          <button type="button" className="secondary" onClick={() => setMode("edit")}>
            Edit<span className="sr-only"> {goal.name}</span>
          </button>
          <button type="button" className="secondary" onClick={() => setMode("confirm")}>
            Delete<span className="sr-only"> {goal.name}</span>
          </button>
        </div>
      )}
    </li>
  );
}
