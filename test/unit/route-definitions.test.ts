import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROUTE_INDEX_PATH, routeDefinitionNames, routeIndexSource } from "../../docs/route-index.ts";
import { answersOnly } from "../../lib/api/route-definition.ts";
import { ROUTE_MODULES } from "../../lib/api/routes/index.ts";
import { ROUTES, routesOf } from "../../lib/api/routes.ts";
import { LIFECYCLE_ACTIONS } from "../../lib/operations/service.ts";

const root = new URL("../../", import.meta.url);

describe("route definitions (lib/api/routes/<function>.ts)", () => {
  it("the committed index lists every definition file, as `npm run docs` writes it", () => {
    const committed = readFileSync(new URL(ROUTE_INDEX_PATH, root), "utf8");
    if (committed !== routeIndexSource())
      expect.fail(`${ROUTE_INDEX_PATH} is stale: run \`npm run docs\` and commit the result`);
    expect(Object.keys(ROUTE_MODULES)).toEqual(routeDefinitionNames());
  });

  it("answersOnly: a 200 with the given body, no errors of its own, an empty example", () => {
    const ok = { description: "The versions document." };

    expect(answersOnly("versions", "The API versions.", ok)).toEqual({
      tag: "versions",
      description: "The API versions.",
      responses: { 200: ok },
      errors: {},
      example: {},
    });
  });

  it("a new definition file is a new entry of the index, named after the file", () => {
    const source = routeIndexSource(["get-node", "register-fleet"]);

    expect(source).toContain('import * as registerFleet from "./register-fleet.ts";');
    expect(source).toContain('  "register-fleet": registerFleet,');
  });

  it.each(Object.keys(ROUTE_MODULES))(
    "%s: its function validates with this very definition",
    async (name) => {
      const { handler } = (await import(`../../functions/${name}.ts`)) as { handler: { route?: unknown } };

      expect(handler.route).toBe(ROUTE_MODULES[name]?.route);
    },
  );

  it("every function serving a route has a definition, and every definition a function", () => {
    const functions = readdirSync(new URL("functions/", root)).map((file) => file.replace(/\.ts$/, ""));
    const servedByRoutes = functions.filter((name) =>
      /\bhttpRoute\(/.test(readFileSync(new URL(`functions/${name}.ts`, root), "utf8")),
    );

    expect(servedByRoutes.sort()).toEqual(Object.keys(ROUTE_MODULES).sort());
  });

  it("the route table has one entry per path of each definition, named after its file", () => {
    const table = routesOf({
      "start-node-operation": {
        route: {
          method: "POST",
          path: ["/v1/nodes/{id}/manage", "/v1/nodes/{id}/clean"],
          summary: (path) => `start ${path.slice(path.lastIndexOf("/") + 1)}`,
          table: "write",
          ironic: true,
        },
      },
    });

    expect(table).toEqual([
      {
        method: "POST",
        path: "/v1/nodes/{id}/manage",
        handler: "start-node-operation",
        summary: "start manage",
        table: "write",
        ironic: true,
      },
      {
        method: "POST",
        path: "/v1/nodes/{id}/clean",
        handler: "start-node-operation",
        summary: "start clean",
        table: "write",
        ironic: true,
      },
    ]);
    expect(
      ROUTES.filter((route) => route.handler === "start-node-operation").map((route) => route.path),
    ).toEqual(LIFECYCLE_ACTIONS.map((action) => `/v1/nodes/{id}/${action}`));
  });
});
