// A goal status as a coloured badge with its words (the colour is never the only cue).
import type { GoalProgress } from "@/api/types";

const LABELS: Record<GoalProgress["status"], string> = {
  achieved: "Achieved",
  missed: "Missed",
  on_track: "On track",
  at_risk: "At risk",
  behind: "Behind",
};

export function StatusBadge({ status }: { status: GoalProgress["status"] }) {
  return <span className={`badge badge--${status}`}>{LABELS[status]}</span>;
}
