// The API's feature flags, for hiding what this deployment does not serve (its endpoints answer 404).
import { type QueryClient, useQuery } from "@tanstack/react-query";

import { getFeatures } from "@/api/features";
import type { FeatureList, FeatureName } from "@/api/types";

export type Features = Record<FeatureName, boolean>;

const ALL_ON: Features = { goals: true, dashboard: true, export: true };

const featuresQuery = {
  queryKey: ["features"],
  queryFn: getFeatures,
  staleTime: 5 * 60_000,
};

/** A feature the API does not list is on (an API older than its flags serves everything). */
function toFlags({ features }: FeatureList): Features {
  const flags = { ...ALL_ON };
  for (const { name, enabled } of features) flags[name] = enabled;
  return flags;
}

/**
 * Each feature's state, or undefined while the API has not answered (callers wait, so nothing that is off
 * shows for a moment). If the request fails, everything is on, as before the flags: the API still refuses
 * what is off.
 */
export function useFeatures(): Features | undefined {
  const query = useQuery({ ...featuresQuery, select: toFlags });
  return query.isError ? ALL_ON : query.data;
}

/** Starts the features' request at once, beside the page's own. */
export function prefetchFeatures(client: QueryClient): void {
  void client.prefetchQuery(featuresQuery);
}
