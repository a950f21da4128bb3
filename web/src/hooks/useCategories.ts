// The caller's categories (for pickers), cached for the session.
import { useQuery } from "@tanstack/react-query";

import { getCategories } from "@/api/goals";

export function useCategories() {
  return useQuery({ queryKey: ["categories"], queryFn: getCategories, staleTime: 5 * 60_000 });
}
