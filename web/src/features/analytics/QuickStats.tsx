// The quick-stats widget: QuickStatsView shows totals (or their loading, empty and error states);
// QuickStatsWidget fetches them for a preset (7d/30d/90d) or a date range, for any page to embed.
import type { DateRangePreset, Totals, ViewContext } from "@/api/types";
import { Skeleton } from "@/components/Skeleton";
import { formatMinutes, formatRatio, raw } from "@/lib/format";

import { useQuickStats } from "./queries";

interface ViewProps {
  totals: Totals | undefined;
  isLoading: boolean;
  error: Error | null;
  title?: string;
  onRetry?: () => void;
}

function Figure({ label, testId, value, shown }: { label: string; testId?: string; value: string; shown: string }) {
  return (
    <div className="figure">
      <dt>{label}</dt>
      <dd data-testid={testId} data-value={value}>
        {shown}
      </dd>
    </div>
  );
}

export function QuickStatsView({ totals, isLoading, error, title = "Quick stats", onRetry }: ViewProps) {
  if (error) {
    return (
      <section className="card quick-stats" aria-label={title}>
        <h2>{title}</h2>
        <p role="alert" className="alert">
          Could not load the figures: {error.message}
        </p>
        {onRetry && (
          <button type="button" onClick={onRetry}>
            Try again
          </button>
        )}
      </section>
    );
  }
  if (isLoading || !totals) {
    return (
      <section className="card quick-stats" aria-label={title} aria-busy="true">
        <h2>{title}</h2>
        <p className="sr-only" role="status">
          Loading figures…
        </p>
        <div className="figures">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} height="3rem" />
          ))}
        </div>
      </section>
    );
  }
  const empty = totals.total_scheduled_minutes === 0 && totals.completed_tasks_count === 0;
  return (
    <section className="card quick-stats" aria-label={title}>
      <h2>{title}</h2>
      {empty && <p className="muted">Nothing scheduled or completed in this period yet.</p>}
      <dl className="figures">
        <Figure
          label="Scheduled"
          testId="quick-stats-total-minutes"
          value={raw(totals.total_scheduled_minutes)}
          shown={formatMinutes(totals.total_scheduled_minutes)}
        />
        <Figure
          label="Completed tasks"
          testId="quick-stats-completed"
          value={raw(totals.completed_tasks_count)}
          shown={String(totals.completed_tasks_count)}
        />
        <Figure
          label="Focus time"
          testId="quick-stats-focus-minutes"
          value={raw(totals.focus_minutes)}
          shown={formatMinutes(totals.focus_minutes)}
        />
        <Figure
          label="Focus utilization"
          testId="quick-stats-focus-utilization"
          value={raw(totals.focus_time_utilization)}
          shown={formatRatio(totals.focus_time_utilization)}
        />
        <Figure
          label="Top category"
          testId="quick-stats-top-category"
          value={raw(totals.top_category?.category_id)}
          shown={totals.top_category ? `${totals.top_category.name} (${formatMinutes(totals.top_category.minutes)})` : "–"}
        />
        <Figure
          label="Streak"
          testId="quick-stats-streak"
          value={raw(totals.streak_days_completed)}
          shown={`${totals.streak_days_completed} day${totals.streak_days_completed === 1 ? "" : "s"}`}
        />
        <Figure
          label="Completion rate"
          testId="quick-stats-completion-rate"
          value={raw(totals.completion_rate)}
          shown={formatRatio(totals.completion_rate)}
        />
      </dl>
    </section>
  );
}

export type QuickStatsWidgetProps = { viewContext?: ViewContext; title?: string } & (
  | { preset: DateRangePreset; startDate?: never; endDate?: never }
  | { preset?: never; startDate: string; endDate: string }
);

export function QuickStatsWidget(props: QuickStatsWidgetProps) {
  const viewContext = props.viewContext ?? "calendar";
  const params =
    props.preset !== undefined
      ? { viewContext, preset: props.preset }
      : { viewContext, startDate: props.startDate, endDate: props.endDate };
  const query = useQuickStats(params);
  return (
    <QuickStatsView
      title={props.title}
      totals={query.data}
      isLoading={query.isPending}
      error={query.error}
      onRetry={() => void query.refetch()}
    />
  );
}
