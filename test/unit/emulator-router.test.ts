import { describe, expect, it } from "vitest";
import { matchPattern, Router } from "../../local/redfish-emulator/router.ts";

describe("emulator router", () => {
  const request = (method: string, path: string) => ({
    method,
    segments: path.split("/").filter(Boolean),
    body: undefined,
  });

  it("matches literals, captures :name segments and a final *rest", () => {
    expect(matchPattern("Systems/:id", ["Systems", "s-1"])).toEqual({ id: "s-1" });
    expect(matchPattern("Systems/:id", ["Systems"])).toBeUndefined();
    expect(matchPattern("Systems/:id", ["Systems", "s-1", "Memory"])).toBeUndefined();
    expect(matchPattern("Chassis/:id/*rest", ["Chassis", "c", "NetworkAdapters", "1"])).toEqual({
      id: "c",
      rest: "NetworkAdapters/1",
    });
    expect(matchPattern("Chassis/:id/*rest", ["Chassis", "c"])).toEqual({ id: "c", rest: "" });
    expect(matchPattern("", [])).toEqual({});
  });

  it("answers with the first enabled route, 404 when none or the resource is missing, 405 for a method it lacks", () => {
    const router = new Router<string>({
      notFound: (r) => `404 ${r.segments.join("/")}`,
      notAllowed: (r) => `405 ${r.method}`,
    }).add(
      { pattern: "Systems/Capabilities", enabled: () => false, GET: () => "capabilities" },
      {
        pattern: "Systems/:id",
        exists: (params) => params.id !== "gone",
        GET: (params) => `system ${params.id}`,
      },
    );
    expect(router.handle(request("GET", "Systems/Capabilities"))).toBe("system Capabilities");
    expect(router.handle(request("GET", "Systems/s-1"))).toBe("system s-1");
    expect(router.handle(request("GET", "Systems/gone"))).toBe("404 Systems/gone");
    expect(router.handle(request("PUT", "Systems/s-1"))).toBe("405 PUT");
    expect(router.handle(request("GET", "Nodes"))).toBe("404 Nodes");
  });
});
