// Typed client of GET /api/v1/features: which of the API's features (goals, dashboard, export) this deployment serves.
import { api, unwrap } from "@/lib/api-client";
import type { FeatureList } from "@/api/types";

export async function getFeatures(): Promise<FeatureList> {
  return unwrap(await api.GET("/api/v1/features"));
}
