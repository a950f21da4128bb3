import { render, screen } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { RouterProvider, createMemoryRouter } from "react-router-dom";

import { storeToken } from "@/lib/auth";
import { featuresWithout } from "@/test/fixtures";
import { server } from "@/test/server";

import { AppProvider } from "./provider";
import { routes } from "./router";

function renderRoutes(path: string) {
  storeToken("test-token");
  render(
    <AppProvider>
      <RouterProvider router={createMemoryRouter(routes, { initialEntries: [path] })} />
    </AppProvider>,
  );
}

describe("navigation", () => {
  it("links to the goals while the API serves them", async () => {
    renderRoutes("/goals");
    expect(await screen.findByRole("link", { name: "Goals" })).toHaveAttribute("href", "/goals");
    expect(await screen.findByRole("button", { name: "Create goal" })).toBeInTheDocument();
  });

  it("hides the Goals link and the goals page when the API turns goals off", async () => {
    server.use(http.get("*/api/v1/features", () => HttpResponse.json(featuresWithout("goals"))));
    renderRoutes("/goals");
    expect(await screen.findByText("Goals are not available on this server.")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Dashboard" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Goals" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Create goal" })).not.toBeInTheDocument();
  });
});
