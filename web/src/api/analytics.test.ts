import { http, HttpResponse } from "msw";

import { exportAnalytics, getDashboard, getQuickStats } from "@/api/analytics";
import { readToken, storeToken } from "@/lib/auth";
import { quickStats } from "@/test/fixtures";
import { server } from "@/test/server";

describe("analytics API client", () => {
  beforeEach(() => storeToken("secret-token"));

  it("asks quick stats by preset or by dates", async () => {
    const queries: string[] = [];
    server.use(
      http.get("*/api/v1/analytics/quick-stats", ({ request }) => {
        queries.push(new URL(request.url).search);
        return HttpResponse.json(quickStats);
      }),
    );
    await getQuickStats({ preset: "30d", viewContext: "tasks" });
    await getQuickStats({ startDate: "2025-03-01", endDate: "2025-03-31" });
    expect(queries).toEqual([
      "?view_context=tasks&date_range=30d",
      "?view_context=calendar&start_date=2025-03-01&end_date=2025-03-31",
    ]);
  });

  it("passes the dashboard's filters and leaves out the empty ones", async () => {
    const queries: string[] = [];
    server.use(
      http.get("*/api/v1/analytics/dashboard", ({ request }) => {
        queries.push(new URL(request.url).search);
        return HttpResponse.json({});
      }),
    );
    await getDashboard({ period: "monthly", startDate: "2025-03-15", categoryId: "c1" });
    await getDashboard({ period: "weekly" });
    expect(queries).toEqual(["?period=monthly&start_date=2025-03-15&category_id=c1", "?period=weekly"]);
  });

  it("downloads the export with the server's file name", async () => {
    server.use(
      http.get("*/api/v1/analytics/export", ({ request }) => {
        expect(request.headers.get("Authorization")).toBe("Bearer secret-token");
        return new HttpResponse("date,total_scheduled_minutes\n", {
          headers: { "Content-Type": "text/csv", "Content-Disposition": 'attachment; filename="pulse-a-b.csv"' },
        });
      }),
    );
    const result = await exportAnalytics("2025-03-01", "2025-03-31");
    expect(result.filename).toBe("pulse-a-b.csv");
    expect(await result.blob.text()).toBe("date,total_scheduled_minutes\n");
  });

  it("a 401 clears the token", async () => {
    server.use(
      http.get("*/api/v1/analytics/quick-stats", () => HttpResponse.json({ detail: "token expired" }, { status: 401 })),
    );
    await expect(getQuickStats({ preset: "7d" })).rejects.toMatchObject({ status: 401, message: "token expired" });
    expect(readToken()).toBeNull();
  });
});
