import { describe, expect, it } from "vitest";
import { buildBundle, deployedHandlers } from "../../bench/support/bundles.ts";
import { ROUTE_MODULES } from "../../lib/api/routes/index.ts";

/** What only the API reference needs: no Lambda bundle carries it (`GET /v1/openapi.json` serves the file). */
const REFERENCE_ONLY = [
  "lib/api/responses.ts",
  "lib/api/reference-text.ts",
  "lib/api/contract.ts",
  "lib/api/openapi.ts",
  "lib/api/routes.ts",
  "lib/api/routes/index.ts",
];

describe("a function's bundle carries its own route definition and nothing of the others'", () => {
  const routeHandlers = deployedHandlers().filter((handler) => handler in ROUTE_MODULES);

  it.each(routeHandlers)("%s", async (handler) => {
    const bundle = await buildBundle(handler, { entry: `functions/${handler}.ts` });
    const ours = [...bundle.byPackage].filter(([, bytes]) => bytes > 0).map(([file]) => file);

    expect(ours).toContain(`lib/api/routes/${handler}.ts`);
    expect(
      ours.filter((file) => file.startsWith("lib/api/routes/") || REFERENCE_ONLY.includes(file)),
    ).toEqual([`lib/api/routes/${handler}.ts`]);
  });
});
