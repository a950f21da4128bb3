// Route `/goals`: the goals page, with the quick-stats widget of the last days for context.
import { useState } from "react";

import type { DateRangePreset } from "@/api/types";
import { QuickStatsWidget } from "@/features/analytics/QuickStats";
import { Goals } from "@/features/goals/Goals";

export function GoalsRoute() {
  const [preset, setPreset] = useState<DateRangePreset>("7d");
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
