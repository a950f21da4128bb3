import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { dashboardOf, featuresWithout, WORK } from "@/test/fixtures";
import { renderWithApp } from "@/test/render";
import { server } from "@/test/server";

import { Dashboard } from "./Dashboard";

function recordDashboardRequests(): URLSearchParams[] {
  const asked: URLSearchParams[] = [];
  server.use(
    http.get("*/api/v1/analytics/dashboard", ({ request }) => {
      const search = new URL(request.url).searchParams;
      asked.push(search);
      return HttpResponse.json(dashboardOf(search.get("start_date") ?? "2025-03-03", search.get("category_id")));
    }),
  );
  return asked;
}

describe("Dashboard", () => {
  it("reads its filters from the URL and shows every figure", async () => {
    const asked = recordDashboardRequests();
    renderWithApp(<Dashboard />, { route: "/?period=weekly&start_date=2025-03-05" });
    expect(await screen.findByTestId("quick-stats-total-minutes")).toHaveAttribute("data-value", "360");
    expect(asked[0]?.toString()).toBe("period=weekly&start_date=2025-03-05");
    const rows = screen.getAllByTestId("trend-row");
    expect(rows).toHaveLength(7);
    expect(rows[0]).toHaveAttribute("data-scheduled", "150");
    expect(screen.getAllByTestId("category-row")[0]).toHaveAttribute("data-value", "360");
    expect(screen.getByTestId("goal-card")).toHaveAttribute("data-status", "on_track");
    expect(screen.getByTestId("export-csv")).toBeEnabled();
  });

  it("leaves out the export button and the goal cards when the API turns them off", async () => {
    server.use(http.get("*/api/v1/features", () => HttpResponse.json(featuresWithout("export", "goals"))));
    renderWithApp(<Dashboard />, { route: "/?period=weekly&start_date=2025-03-03" });
    expect(await screen.findByTestId("quick-stats-total-minutes")).toHaveAttribute("data-value", "360");
    expect(screen.getAllByTestId("trend-row")).toHaveLength(7);
    expect(screen.queryByTestId("export-csv")).not.toBeInTheDocument();
    expect(screen.queryByTestId("goal-card")).not.toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: "Weekly goals" })).not.toBeInTheDocument();
  });

  it("shows a short message instead of the dashboard when the API turns it off", async () => {
    server.use(http.get("*/api/v1/features", () => HttpResponse.json(featuresWithout("dashboard"))));
    renderWithApp(<Dashboard />);
    expect(await screen.findByText("The dashboard is not available on this server.")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Dashboard filters" })).not.toBeInTheDocument();
  });

  it("shows neither the export button nor goal cards before the API has said which features are on", async () => {
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    server.use(
      http.get("*/api/v1/features", async () => {
        await answered;
        return HttpResponse.json(featuresWithout());
      }),
    );
    renderWithApp(<Dashboard />, { route: "/?period=weekly&start_date=2025-03-03" });
    expect(await screen.findByRole("option", { name: "Work" })).toBeInTheDocument();
    expect(screen.queryByTestId("export-csv")).not.toBeInTheDocument();
    expect(screen.queryByTestId("quick-stats-total-minutes")).not.toBeInTheDocument();
    answer();
    expect(await screen.findByTestId("export-csv")).toBeInTheDocument();
    expect(await screen.findByTestId("goal-card")).toBeInTheDocument();
  });

  it("puts the category filter in the URL and restricts every figure", async () => {
    const asked = recordDashboardRequests();
    const user = userEvent.setup();
    const { router } = renderWithApp(<Dashboard />, { route: "/?period=weekly&start_date=2025-03-03" });
    await screen.findByTestId("quick-stats-total-minutes");
    await screen.findByRole("option", { name: "Work" });
    await user.selectOptions(screen.getByLabelText("Category"), WORK);
    await waitFor(() => expect(screen.getByTestId("quick-stats-total-minutes")).toHaveAttribute("data-value", "180"));
    expect(router.state.location.search).toBe(`?period=weekly&start_date=2025-03-03&category_id=${WORK}`);
    expect(asked.at(-1)?.get("category_id")).toBe(WORK);
    expect(screen.getAllByTestId("category-row")[0]).toHaveAttribute("data-category-id", WORK);
    const scheduled = screen.getAllByTestId("trend-row").map((row) => Number(row.dataset.scheduled));
    expect(scheduled.reduce((a, b) => a + b, 0)).toBe(180);
  });

  it("moves to the previous and next period and switches to months", async () => {
    const asked = recordDashboardRequests();
    const user = userEvent.setup();
    const { router } = renderWithApp(<Dashboard />, { route: "/?period=weekly&start_date=2025-03-03" });
    await screen.findByTestId("quick-stats-total-minutes");
    await user.click(screen.getByRole("button", { name: "← Previous" }));
    await waitFor(() => expect(router.state.location.search).toBe("?period=weekly&start_date=2025-03-02"));
    await waitFor(() => expect(asked.at(-1)?.get("start_date")).toBe("2025-03-02"));
    await user.selectOptions(screen.getByLabelText("Period"), "monthly");
    await waitFor(() => expect(asked.at(-1)?.get("period")).toBe("monthly"));
    expect(router.state.location.search).toContain("period=monthly");
  });

  it("a refused token brings back the sign-in box", async () => {
    server.use(
      http.get("*/api/v1/analytics/dashboard", () => HttpResponse.json({ detail: "token expired" }, { status: 401 })),
    );
    renderWithApp(<Dashboard />);
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("token expired");
    expect(within(document.body).getByLabelText("Access token")).toBeInTheDocument();
  });
});
