// The dashboard: filters (period, previous/next, category), quick stats of the period, the category doughnut,
// the daily trend, the goal cards of that period type, and the CSV export. What the API's feature flags turn off
// is left out (a short message instead of the whole dashboard); until the flags are known, the skeletons show.
import { useSearchParams } from "react-router-dom";
import { toast } from "sonner";

import type { Dashboard as DashboardData } from "@/api/types";
import { GoalProgressCard } from "@/components/GoalProgressCard";
import { Skeleton } from "@/components/Skeleton";
import { useCategories } from "@/hooks/useCategories";
import { useFeatures } from "@/hooks/useFeatures";
import { formatInstant } from "@/lib/format";

import { CategoryChart } from "./CategoryChart";
import { type DashboardFilters, filtersFromSearch, neighbourStart, searchFromFilters } from "./filters";
import { useDashboard, useExport } from "./queries";
import { QuickStatsView } from "./QuickStats";
import { TrendChart } from "./TrendChart";

export function Dashboard() {
  const [search, setSearch] = useSearchParams();
  const filters = filtersFromSearch(search);
  // Asked beside the features (not after them), so a dashboard that is on loads no later than before.
  const dashboard = useDashboard(filters);
  const features = useFeatures();
  const update = (change: Partial<DashboardFilters>) => setSearch(searchFromFilters({ ...filters, ...change }));

  if (features && !features.dashboard) return <p className="muted">The dashboard is not available on this server.</p>;
  const data = features ? dashboard.data : undefined;
  const error = features ? dashboard.error : null;

  return (
    <div className="dashboard">
      <Filters filters={filters} data={data} canExport={features?.export === true} onChange={update} />
      {data && (
        <p className="muted" aria-live="polite">
          {data.range.start_date} – {data.range.end_date} · figures as of {formatInstant(data.data_as_of)}
        </p>
      )}
      <QuickStatsView
        title="Quick stats"
        totals={data?.totals}
        isLoading={!data}
        error={error}
        onRetry={() => void dashboard.refetch()}
      />
      {data ? (
        <>
          <div className="charts">
            <CategoryChart distribution={data.category_distribution} />
            <TrendChart trends={data.trends} />
          </div>
          {features?.goals && <GoalCards goals={data.goals} period={data.period} />}
        </>
      ) : (
        !error && (
          <div className="charts" aria-hidden="true">
            <div className="card">
              <Skeleton height="16rem" />
            </div>
            <div className="card">
              <Skeleton height="16rem" />
            </div>
          </div>
        )
      )}
    </div>
  );
}

function Filters({
  filters,
  data,
  canExport,
  onChange,
}: {
  filters: DashboardFilters;
  data: DashboardData | undefined;
  canExport: boolean;
  onChange: (change: Partial<DashboardFilters>) => void;
}) {
  const categories = useCategories();
  const exporter = useExport();
  const exportCsv = () => {
    if (!data) return;
    exporter.mutate(
      { startDate: data.range.start_date, endDate: data.range.end_date },
      {
        onSuccess: (filename) => toast.success(`Downloaded ${filename}`),
        onError: (error) => toast.error(`Export failed: ${error.message}`),
      },
    );
  };
  return (
    <form className="filters card" aria-label="Dashboard filters" onSubmit={(event) => event.preventDefault()}>
      <div className="field">
        <label htmlFor="filter-period">Period</label>
        <select
          id="filter-period"
          value={filters.period}
          onChange={(event) => onChange({ period: event.target.value === "monthly" ? "monthly" : "weekly" })}
        >
          <option value="weekly">Weekly</option>
          <option value="monthly">Monthly</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-category">Category</label>
        <select
          id="filter-category"
          value={filters.categoryId ?? ""}
          onChange={(event) => onChange({ categoryId: event.target.value || undefined })}
        >
          <option value="">All categories</option>
          {categories.data?.map((category) => (
            <option key={category.category_id} value={category.category_id}>
              {category.name}
            </option>
          ))}
        </select>
      </div>
      <div className="nav-buttons" role="group" aria-label="Previous or next">
        <button
          type="button"
          disabled={!data}
          onClick={() => data && onChange({ startDate: neighbourStart(data.range, -1) })}
        >
          ← Previous
        </button>
        <button type="button" disabled={!data} onClick={() => data && onChange({ startDate: neighbourStart(data.range, 1) })}>
          Next →
        </button>
      </div>
      {canExport && (
        <button type="button" data-testid="export-csv" disabled={!data || exporter.isPending} onClick={exportCsv}>
          {exporter.isPending ? "Exporting…" : "Export CSV"}
        </button>
      )}
    </form>
  );
}

function GoalCards({ goals, period }: { goals: DashboardData["goals"]; period: DashboardData["period"] }) {
  return (
    <section>
      <h2>{period === "weekly" ? "Weekly" : "Monthly"} goals</h2>
      {goals.length === 0 ? (
        <p className="muted">No active {period} goals for this period.</p>
      ) : (
        <div className="goal-cards">
          {goals.map((goal) => (
            <GoalProgressCard key={goal.goal_id} progress={goal} />
          ))}
        </div>
      )}
    </section>
  );
}
