import { http, HttpResponse } from "msw";

import { getFeatures } from "@/api/features";
import { storeToken } from "@/lib/auth";
import { featuresWithout } from "@/test/fixtures";
import { server } from "@/test/server";

describe("features API client", () => {
  it("sends the bearer token and returns each feature's state", async () => {
    storeToken("secret-token");
    let authorization: string | null = null;
    server.use(
      http.get("*/api/v1/features", ({ request }) => {
        authorization = request.headers.get("Authorization");
        return HttpResponse.json(featuresWithout("export"));
      }),
    );
    expect(await getFeatures()).toEqual(featuresWithout("export"));
    expect(authorization).toBe("Bearer secret-token");
  });
});
