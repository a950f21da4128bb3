// Daily trend lines of a period (scheduled minutes, focus minutes, completed tasks), with one trend-row per day.
import type { Dashboard } from "@/api/types";
import { ChartFigure } from "@/components/ChartFigure";
import { PALETTE } from "@/lib/palette";

import { LineChart as Line } from "./charts/lazy";
import { formatDay } from "@/lib/format";

export function TrendChart({ trends }: { trends: Dashboard["trends"] }) {
  const busiest = trends.reduce<Dashboard["trends"][number] | null>(
    (best, day) => (best === null || day.scheduled_minutes > best.scheduled_minutes ? day : best),
    null,
  );
  const description =
    busiest && busiest.scheduled_minutes > 0
      ? `Daily scheduled minutes, focus minutes and completed tasks over ${trends.length} days; the busiest day is ${formatDay(busiest.date)} with ${busiest.scheduled_minutes} scheduled minutes.`
      : `Nothing scheduled on any of these ${trends.length} days.`;
  return (
    <ChartFigure
      title="Daily trend"
      description={description}
      chart={
        <Line
          data={{
            labels: trends.map((day) => formatDay(day.date)),
            datasets: [
              { label: "Scheduled minutes", data: trends.map((d) => d.scheduled_minutes), borderColor: PALETTE[0], backgroundColor: PALETTE[0], yAxisID: "minutes" },
              { label: "Focus minutes", data: trends.map((d) => d.focus_minutes), borderColor: PALETTE[2], backgroundColor: PALETTE[2], yAxisID: "minutes" },
              { label: "Completed tasks", data: trends.map((d) => d.completed_tasks_count), borderColor: PALETTE[1], backgroundColor: PALETTE[1], yAxisID: "tasks", borderDash: [4, 4] },
            ],
          }}
          options={{
            maintainAspectRatio: false,
            animation: false,
            interaction: { mode: "index", intersect: false },
            scales: {
              minutes: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "minutes" } },
              tasks: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 }, title: { display: true, text: "tasks" } },
            },
            plugins: { legend: { position: "bottom" } },
          }}
        />
      }
      table={
        <table>
          <caption>Daily figures</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Scheduled minutes</th>
              <th scope="col">Focus minutes</th>
              <th scope="col">Completed tasks</th>
            </tr>
          </thead>
          <tbody>
            {trends.map((day) => (
              <tr
                key={day.date}
                data-testid="trend-row"
                data-date={day.date}
                data-scheduled={day.scheduled_minutes}
                data-focus={day.focus_minutes}
                data-completed={day.completed_tasks_count}
              >
                <th scope="row">{day.date}</th>
                <td>{day.scheduled_minutes}</td>
                <td>{day.focus_minutes}</td>
                <td>{day.completed_tasks_count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      }
    />
  );
}
