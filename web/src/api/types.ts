// Names for the generated OpenAPI schema types (src/api/schema.d.ts is generated: `npm run gen:api`).
import type { components } from "@/api/schema";

type Schemas = components["schemas"];
export type Goal = Schemas["Goal"];
export type GoalCreate = Schemas["GoalCreate"];
export type GoalUpdate = Schemas["GoalUpdate"];
export type GoalProgress = Schemas["GoalProgress"];
export type Category = Schemas["Category"];
export type FeatureList = Schemas["FeatureList"];
export type FeatureName = Schemas["FeatureState"]["name"];
export type QuickStats = Schemas["QuickStats"];
export type Dashboard = Schemas["Dashboard"];
export type Totals = Schemas["Totals"];
export type TargetType = Goal["target_type"];
export type TimePeriod = Goal["time_period"];
export type DashboardPeriod = Dashboard["period"];
export type DateRangePreset = "7d" | "30d" | "90d";
export type ViewContext = QuickStats["view_context"];
