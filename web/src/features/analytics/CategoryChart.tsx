// The category doughnut of a period, with its data table (one category-row per category).
import type { Dashboard } from "@/api/types";
import { ChartFigure } from "@/components/ChartFigure";
import { PALETTE } from "@/lib/palette";

import { DoughnutChart as Doughnut } from "./charts/lazy";
import { formatMinutes } from "@/lib/format";

export function CategoryChart({ distribution }: { distribution: Dashboard["category_distribution"] }) {
  const total = distribution.reduce((sum, row) => sum + row.minutes, 0);
  const description =
    total === 0
      ? "No scheduled minutes in this period."
      : distribution.map((row) => `${row.name}: ${formatMinutes(row.minutes)} (${Math.round(row.share * 100)}%)`).join("; ");
  return (
    <ChartFigure
      title="Time across categories"
      description={description}
      chart={
        total === 0 ? (
          <p className="empty">No scheduled time in this period.</p>
        ) : (
          <Doughnut
            data={{
              labels: distribution.map((row) => row.name),
              datasets: [
                {
                  data: distribution.map((row) => row.minutes),
                  backgroundColor: distribution.map((_, i) => PALETTE[i % PALETTE.length]),
                },
              ],
            }}
            options={{ maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } }}
          />
        )
      }
      table={
        <table>
          <caption>Scheduled minutes by category</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Minutes</th>
              <th scope="col">Share</th>
            </tr>
          </thead>
          <tbody>
            {distribution.map((row) => (
              <tr
                key={row.category_id ?? "uncategorized"}
                data-testid="category-row"
                data-category-id={row.category_id ?? ""}
                data-value={row.minutes}
              >
                <th scope="row">{row.name}</th>
                <td>{row.minutes}</td>
                <td>{Math.round(row.share * 100)}%</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
