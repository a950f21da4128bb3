// One goal's progress over a period: a progress bar and a status badge (used by the dashboard and the goals page).
import type { GoalProgress } from "@/api/types";
import { StatusBadge } from "@/components/StatusBadge";
import { formatTarget } from "@/lib/format";

export function GoalProgressCard({ progress }: { progress: GoalProgress }) {
  const percent = Math.min(progress.percent_complete, 100);
  return (
    <article
      className="card goal-card"
      data-testid="goal-card"
      data-goal-id={progress.goal_id}
      data-status={progress.status}
      data-achieved={progress.achieved_value}
      data-percent-complete={progress.percent_complete}
    >
      <header className="goal-card__head">
        <h3>{progress.name}</h3>
        <StatusBadge status={progress.status} />
      </header>
      <progress
        max={100}
        value={percent}
        title={`${progress.name}: ${progress.percent_complete}% of the target`}
      />
      <p className="muted">
        {formatTarget(progress.target_type, progress.achieved_value)} of{" "}
        {formatTarget(progress.target_type, progress.target_value)} ({progress.percent_complete}%) ·{" "}
        {progress.period.start} – {progress.period.end}
      </p>
    </article>
  );
}
