import { describe, expect, it } from "vitest";
import { startTestApi } from "../support/local-api.ts";

const podm = (name: string) => ({
  name,
  url: "http://192.0.2.20:8443",
  authentication: [{ type: "basic", auth_items: { username: "admin", password: "Config-Pw-1" } }],
});

describe("the local stack's configuration", () => {
  it("configures its handlers without writing process.env", async () => {
    const before = { ...process.env };
    const api = await startTestApi({ env: { VALENCE_TABLE_NAME: "valence-explicit" } });
    try {
      expect(api.stack.tableName).toBe("valence-explicit");
      expect(api.stack.config).toMatchObject({
        VALENCE_TABLE_NAME: "valence-explicit",
        VALENCE_SECRET_STORE: "file",
        DYNAMODB_ENDPOINT: api.stack.dynamoEndpoint,
      });
      expect((await api.call("POST", "/v1/pod_managers", podm("explicit-podm"))).status).toBe(201);
      expect(process.env).toEqual(before);
    } finally {
      await api.stop();
    }
  });

  it("serves a second stack in the same process with its own services, not the first one's", async () => {
    const first = await startTestApi({ env: { VALENCE_TABLE_NAME: "valence-first" } });
    try {
      expect((await first.call("POST", "/v1/pod_managers", podm("first-podm"))).status).toBe(201);
    } finally {
      await first.stop();
    }

    const second = await startTestApi({ env: { VALENCE_TABLE_NAME: "valence-second" } });
    try {
      const listed = await second.call("GET", "/v1/pod_managers");
      expect(listed.status, listed.text).toBe(200);
      expect(listed.body).toEqual([]);
      expect((await second.call("POST", "/v1/pod_managers", podm("second-podm"))).status).toBe(201);
      const tables = (await second.scan()).filter((item) => item.name === "second-podm");
      expect(tables).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
