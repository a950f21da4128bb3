// The routes: `/` (dashboard) and `/goals`, inside the layout with its navigation (Goals only when that feature is on).
import { NavLink, Outlet, RouterProvider, createBrowserRouter } from "react-router-dom";

import { useFeatures } from "@/hooks/useFeatures";

import { DashboardRoute } from "./routes/dashboard";
import { GoalsRoute } from "./routes/goals";

function Layout() {
  const features = useFeatures();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Pulse</span>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Dashboard
          </NavLink>
          {features?.goals && <NavLink to="/goals">Goals</NavLink>}
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}

function NotFound() {
  return (
    <p>
      No page here. <NavLink to="/">Back to the dashboard</NavLink>
    </p>
  );
}

export const routes = [
  {
    element: <Layout />,
    children: [
      { path: "/", element: <DashboardRoute /> },
      { path: "/goals", element: <GoalsRoute /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];

export function AppRouter() {
  return <RouterProvider router={createBrowserRouter(routes)} />;
}
