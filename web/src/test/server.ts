// MSW's HTTP-level mock of the Pulse API, shared by the component and client tests (default: happy answers).
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";

import { categories, dashboardOf, featuresWithout, goal, progress, quickStats } from "./fixtures";

export const handlers = [
  http.get("*/api/v1/features", () => HttpResponse.json(featuresWithout())),
  http.get("*/api/v1/categories", () => HttpResponse.json(categories)),
  http.get("*/api/v1/goals", () => HttpResponse.json([goal])),
  http.get("*/api/v1/goals/progress", () => HttpResponse.json([progress])),
  http.get("*/api/v1/analytics/quick-stats", () => HttpResponse.json(quickStats)),
  http.get("*/api/v1/analytics/dashboard", ({ request }) => {
    const url = new URL(request.url);
    return HttpResponse.json(dashboardOf(url.searchParams.get("start_date") ?? "2025-03-03", url.searchParams.get("category_id")));
  }),
];

export const server = setupServer(...handlers);
