// The goal form (create, or edit an existing goal): inline validation and one line of help per target type.
import { type FormEvent, useId, useState } from "react";

import type { Category } from "@/api/types";

import { type GoalFormErrors, type GoalFormValues, TARGET_HELP, validateGoal } from "./validation";

export const EMPTY_GOAL: GoalFormValues = {
  name: "",
  targetType: "minutes",
  targetValue: "",
  period: "weekly",
  categoryId: "",
};

interface Props {
  categories: Category[];
  initial?: GoalFormValues;
  submitLabel?: string;
  busy?: boolean;
  /** Resolves when saved (the form then resets), rejects with the server's message. */
  onSubmit: (values: GoalFormValues) => Promise<unknown>;
  onCancel?: () => void;
}

export function GoalForm({ categories, initial = EMPTY_GOAL, submitLabel = "Create goal", busy, onSubmit, onCancel }: Props) {
  const id = useId();
  const [values, setValues] = useState<GoalFormValues>(initial);
  const [errors, setErrors] = useState<GoalFormErrors>({});
  const [touched, setTouched] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);

  const change = <K extends keyof GoalFormValues>(key: K, value: GoalFormValues[K]) => {
    const next = { ...values, [key]: value };
    setValues(next);
    if (touched) setErrors(validateGoal(next));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    const found = validateGoal(values);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setServerError(null);
    try {
      await onSubmit(values);
      if (!onCancel) {
        setValues(initial);
        setTouched(false);
      }
    } catch (error) {
      setServerError(error instanceof Error ? error.message : String(error));
    }
  };

  const field = (key: keyof GoalFormValues) => ({
    id: `${id}-${key}`,
    "aria-invalid": errors[key] ? true : undefined,
    "aria-describedby": [errors[key] ? `${id}-${key}-error` : "", key === "targetType" || key === "targetValue" ? `${id}-help` : ""]
      .filter(Boolean)
      .join(" ") || undefined,
  });
  const errorOf = (key: keyof GoalFormValues) =>
    errors[key] ? (
      <p id={`${id}-${key}-error`} className="field-error">
        {errors[key]}
      </p>
    ) : null;

  return (
    <form className="goal-form" onSubmit={submit} noValidate aria-label={submitLabel}>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input {...field("name")} value={values.name} maxLength={200} onChange={(e) => change("name", e.target.value)} />
        {errorOf("name")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-targetType`}>Target type</label>
        <select
          {...field("targetType")}
          value={values.targetType}
          onChange={(e) => change("targetType", e.target.value as GoalFormValues["targetType"])}
        >
          <option value="minutes">Minutes</option>
          <option value="percentage">Percentage of scheduled time</option>
          <option value="task_count">Completed tasks</option>
        </select>
        <p id={`${id}-help`} className="muted help">
          {TARGET_HELP[values.targetType]}
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-targetValue`}>Target value</label>
        <input
          {...field("targetValue")}
          type="number"
          inputMode="numeric"
          min={1}
          max={values.targetType === "percentage" ? 100 : undefined}
          value={values.targetValue}
          onChange={(e) => change("targetValue", e.target.value)}
        />
        {errorOf("targetValue")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-period`}>Period</label>
        <select {...field("period")} value={values.period} onChange={(e) => change("period", e.target.value as GoalFormValues["period"])}>
          <option value="daily">Daily</option>
          <option value="weekly">Weekly</option>
          <option value="monthly">Monthly</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-categoryId`}>Category</label>
        <select {...field("categoryId")} value={values.categoryId} onChange={(e) => change("categoryId", e.target.value)}>
          <option value="">{values.targetType === "percentage" ? "Choose a category" : "All tasks"}</option>
          {categories.map((category) => (
            <option key={category.category_id} value={category.category_id}>
              {category.name}
            </option>
          ))}
        </select>
        {errorOf("categoryId")}
      </div>
      {serverError && (
        <p role="alert" className="alert">
          {serverError}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
