import { describe, expect, it, vi } from "vitest";
import * as z from "zod/mini";

/**
 * Every module of ours that holds zod schemas. Importing one must build none of them: zod/mini builds a schema when
 * its constructor runs, and a function that imports a module for one schema would otherwise build all of it at
 * every cold start (bench/README.md, cold-start).
 */
const SCHEMA_MODULES = [
  "lib/api/common.ts",
  "lib/api/responses.ts",
  "lib/events/schemas.ts",
  "lib/ironic/auth.ts",
  "lib/ironic/schemas.ts",
  "lib/nodes/hardware-traits.ts",
  "lib/nodes/model.ts",
  "lib/nodes/schemas.ts",
  "lib/operations/lifecycle.ts",
  "lib/operations/model.ts",
  "lib/operations/schemas.ts",
  "lib/podmanagers/model.ts",
  "lib/podmanagers/placement.ts",
  "lib/podmanagers/rotation.ts",
  "lib/podmanagers/schemas.ts",
  "lib/redfish/accounts.ts",
  "lib/redfish/schemas.ts",
  "lib/secrets/file-store.ts",
  "lib/secrets/store.ts",
  "lib/config.ts",
] as const;

/** A zod schema that exists already (a lazy one that is not built yet answers `false` without being built). */
function isBuiltSchema(
  value: unknown,
  isLazy: (value: unknown) => boolean,
  isBuilt: (value: object) => boolean,
) {
  if (isLazy(value)) return isBuilt(value as object);
  return typeof value === "object" && value !== null && "_zod" in value;
}

describe("lazy schemas (lib/lazy-schema.ts)", () => {
  it.each(SCHEMA_MODULES)("importing %s builds no schema", async (path) => {
    vi.resetModules();
    const lazy = await import("../../lib/lazy-schema.ts");
    const module = (await import(/* @vite-ignore */ `../../${path}`)) as Record<string, unknown>;

    const built = Object.entries(module)
      .filter(([, value]) => isBuiltSchema(value, lazy.isLazySchema, lazy.isBuilt))
      .map(([name]) => name);
    expect(built, `${path} builds these at import: wrap them in lazySchema(() => ...)`).toEqual([]);
  });

  it("builds on first use, once, and is then the schema itself to zod", async () => {
    const { isBuilt, lazySchema } = await import("../../lib/lazy-schema.ts");
    let builds = 0;
    const Link = lazySchema(() => {
      builds += 1;
      return z.object({ "@odata.id": z.string() });
    });
    const System = lazySchema(() => z.object({ Id: z.string(), Links: z.optional(z.array(Link)) }));

    expect(isBuilt(Link)).toBe(false);
    expect(System.safeParse({ Id: "1", Links: [{ "@odata.id": "/a" }] }).success).toBe(true);
    expect(System.safeParse({ Id: "1", Links: [{}] }).error?.issues[0]?.path).toEqual([
      "Links",
      0,
      "@odata.id",
    ]);
    expect(builds).toBe(1);
    expect(Object.keys(System.shape)).toEqual(["Id", "Links"]);
    expect(z.partial(System).safeParse({}).success).toBe(true);
    const registry = z.registry<{ id: string }>();
    registry.add(Link, { id: "Link" });
    registry.add(System, { id: "System" });
    const converted = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` }).schemas;
    expect(converted.System?.properties?.Links).toEqual({
      type: "array",
      items: { $ref: "#/components/schemas/Link" },
    });
  });
});
