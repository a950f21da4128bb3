// Route `/`: the analytics dashboard.
import { Dashboard } from "@/features/analytics/Dashboard";

export function DashboardRoute() {
  return <Dashboard />;
}
