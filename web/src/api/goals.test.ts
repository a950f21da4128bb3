import { http, HttpResponse } from "msw";

import { createGoal, deleteGoal, getGoalProgress, getGoals, updateGoal } from "@/api/goals";
import { ApiError } from "@/lib/api-client";
import { storeToken } from "@/lib/auth";
import { goal, progress } from "@/test/fixtures";
import { server } from "@/test/server";

describe("goals API client", () => {
  beforeEach(() => storeToken("secret-token"));

  it("sends the bearer token and returns the goals", async () => {
    let authorization: string | null = null;
    server.use(
      http.get("*/api/v1/goals", ({ request }) => {
        authorization = request.headers.get("Authorization");
        return HttpResponse.json([goal]);
      }),
    );
    expect(await getGoals()).toEqual([goal]);
    expect(authorization).toBe("Bearer secret-token");
  });

  it("posts a new goal and puts changes", async () => {
    const bodies: unknown[] = [];
    server.use(
      http.post("*/api/v1/goals", async ({ request }) => {
        bodies.push(await request.json());
        return HttpResponse.json(goal, { status: 201 });
      }),
      http.put("*/api/v1/goals/:id", async ({ request, params }) => {
        bodies.push([params.id, await request.json()]);
        return HttpResponse.json({ ...goal, target_value: 720 });
      }),
    );
    const body = { name: "Deep work", target_type: "minutes" as const, target_value: 600, time_period: "weekly" as const };
    expect(await createGoal(body)).toEqual(goal);
    expect((await updateGoal(goal.goal_id, { target_value: 720 })).target_value).toBe(720);
    expect(bodies).toEqual([body, [goal.goal_id, { target_value: 720 }]]);
  });

  it("deletes a goal, and a 404 is an ApiError with the server's message", async () => {
    server.use(
      http.delete("*/api/v1/goals/:id", ({ params }) =>
        params.id === goal.goal_id
          ? new HttpResponse(null, { status: 204 })
          : HttpResponse.json({ detail: "goal_id: no goal with this id" }, { status: 404 }),
      ),
    );
    await expect(deleteGoal(goal.goal_id)).resolves.toBeUndefined();
    await expect(deleteGoal("00000000-0000-4000-8000-000000000000")).rejects.toMatchObject({
      status: 404,
      message: "goal_id: no goal with this id",
    });
  });

  it("asks progress of a period type and date", async () => {
    let query = "";
    server.use(
      http.get("*/api/v1/goals/progress", ({ request }) => {
        query = new URL(request.url).search;
        return HttpResponse.json([progress]);
      }),
    );
    expect(await getGoalProgress("weekly", "2025-03-05")).toEqual([progress]);
    expect(query).toBe("?period=weekly&start_date=2025-03-05");
  });

  it("names the field of a 422", async () => {
    server.use(
      http.post("*/api/v1/goals", () =>
        HttpResponse.json(
          { detail: [{ loc: ["body", "category_id"], msg: "a percentage goal needs a category_id" }] },
          { status: 422 },
        ),
      ),
    );
    const error = await createGoal({ name: "x", target_type: "percentage", target_value: 5, time_period: "daily" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe("category_id: a percentage goal needs a category_id");
  });
});
