// Route `/goals`: the goals page, with the quick-stats widget of the last days for context; a short message
// instead when the API's goals feature is off (a skeleton until the API has said).
import { useState } from "react";

import type { DateRangePreset } from "@/api/types";
import { Skeleton } from "@/components/Skeleton";
import { QuickStatsWidget } from "@/features/analytics/QuickStats";
import { Goals } from "@/features/goals/Goals";
import { useFeatures } from "@/hooks/useFeatures";

export function GoalsRoute() {
  const features = useFeatures();
  const [preset, setPreset] = useState<DateRangePreset>("7d");
  if (!features) {
    return (
      <div aria-busy="true">
        <Skeleton height="5rem" />
      </div>
    );
  }
  if (!features.goals) return <p className="muted">Goals are not available on this server.</p>;
  return (
    <>
      <Goals />
      <div className="field inline">
        <label htmlFor="stats-preset">Quick stats of the last</label>
        <select id="stats-preset" value={preset} onChange={(e) => setPreset(e.target.value as DateRangePreset)}>
          <option value="7d">7 days</option>
          <option value="30d">30 days</option>
          <option value="90d">90 days</option>
        </select>
      </div>
      <QuickStatsWidget preset={preset} viewContext="tasks" title={`Last ${preset.replace("d", " days")}`} />
    </>
  );
}
