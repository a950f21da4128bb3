// Vitest setup: jest-dom matchers, MSW's server for every test, a clean sessionStorage.
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";

import { server } from "./server";

beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => {
  cleanup();
  server.resetHandlers();
  window.sessionStorage.clear();
});
afterAll(() => server.close());

// jsdom has no canvas: Chart.js cannot draw there, so the component tests stand a placeholder in for the two
// chart components (their data tables, which the tests read, are Pulse's own). The e2e tests draw the real ones.
vi.mock("react-chartjs-2", () => ({
  Doughnut: () => <canvas data-chart="doughnut" />,
  Line: () => <canvas data-chart="line" />,
}));
