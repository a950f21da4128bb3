import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse, delay } from "msw";
import { useState } from "react";

import { emptyQuickStats, quickStats } from "@/test/fixtures";
import { renderWithApp } from "@/test/render";
import { server } from "@/test/server";

import { QuickStatsWidget } from "./QuickStats";

describe("QuickStatsWidget", () => {
  it("shows skeletons while loading", async () => {
    server.use(
      http.get("*/api/v1/analytics/quick-stats", async () => {
        await delay("infinite");
        return HttpResponse.json(quickStats);
      }),
    );
    renderWithApp(<QuickStatsWidget preset="7d" />);
    expect(await screen.findByRole("status")).toHaveTextContent("Loading figures");
    expect(screen.queryByTestId("quick-stats-total-minutes")).not.toBeInTheDocument();
  });

  it("shows the figures with the API's raw values in data-value", async () => {
    renderWithApp(<QuickStatsWidget preset="7d" />);
    const total = await screen.findByTestId("quick-stats-total-minutes");
    expect(total).toHaveAttribute("data-value", "360");
    expect(total).toHaveTextContent("6 h");
    expect(screen.getByTestId("quick-stats-focus-utilization")).toHaveAttribute("data-value", String(1 / 3));
    expect(screen.getByTestId("quick-stats-focus-utilization")).toHaveTextContent("33%");
    expect(screen.getByTestId("quick-stats-completed")).toHaveAttribute("data-value", "4");
    expect(screen.getByTestId("quick-stats-streak")).toHaveAttribute("data-value", "1");
    expect(screen.getByText("Health (2 h 30 min)")).toBeInTheDocument();
  });

  it("says when the range is empty, with empty data-value for null ratios", async () => {
    server.use(http.get("*/api/v1/analytics/quick-stats", () => HttpResponse.json(emptyQuickStats)));
    renderWithApp(<QuickStatsWidget preset="90d" />);
    expect(await screen.findByText(/Nothing scheduled or completed/)).toBeInTheDocument();
    expect(screen.getByTestId("quick-stats-focus-utilization")).toHaveAttribute("data-value", "");
  });

  it("shows an error with a retry", async () => {
    server.use(
      http.get("*/api/v1/analytics/quick-stats", () =>
        HttpResponse.json({ detail: "the marts are not built: run pulse build" }, { status: 503 }),
      ),
    );
    renderWithApp(<QuickStatsWidget preset="30d" />);
    expect(await screen.findByRole("alert")).toHaveTextContent("the marts are not built");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });

  it("asks again when its dates change", async () => {
    const asked: string[] = [];
    server.use(
      http.get("*/api/v1/analytics/quick-stats", ({ request }) => {
        asked.push(new URL(request.url).searchParams.get("start_date") ?? "");
        return HttpResponse.json(quickStats);
      }),
    );
    function Harness() {
      const [month, setMonth] = useState("03");
      return (
        <>
          <button onClick={() => setMonth("04")}>April</button>
          <QuickStatsWidget startDate={`2025-${month}-01`} endDate={`2025-${month}-07`} />
        </>
      );
    }
    renderWithApp(<Harness />);
    await screen.findByTestId("quick-stats-total-minutes");
    await userEvent.setup().click(screen.getByRole("button", { name: "April" }));
    await waitFor(() => expect(asked).toHaveLength(2));
    expect(asked).toEqual(["2025-03-01", "2025-04-01"]);
  });
});
