// Lazy wrappers of the chart canvases (a placeholder of the same size shows while Chart.js loads).
import { type ComponentProps, Suspense, lazy } from "react";
import type { Doughnut as DoughnutType, Line as LineType } from "react-chartjs-2";

import { Skeleton } from "@/components/Skeleton";

const LazyDoughnut = lazy(() => import("./index").then((m) => ({ default: m.Doughnut })));
const LazyLine = lazy(() => import("./index").then((m) => ({ default: m.Line })));

const fallback = <Skeleton height="100%" />;

export function DoughnutChart(props: ComponentProps<typeof DoughnutType>) {
  return (
    <Suspense fallback={fallback}>
      <LazyDoughnut {...props} />
    </Suspense>
  );
}

export function LineChart(props: ComponentProps<typeof LineType>) {
  return (
    <Suspense fallback={fallback}>
      <LazyLine {...props} />
    </Suspense>
  );
}
