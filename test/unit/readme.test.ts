import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configVariables } from "../../lib/config.ts";

const readme = readFileSync("README.md", "utf8");

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section ${title}`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Variables named in the first column of the Configuration table. */
function documentedVariables(): string[] {
  return section("Configuration")
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) =>
      [...(line.split("|")[1] ?? "").matchAll(/`([A-Z_*]+)`/g)].map((match) => match[1] ?? ""),
    );
}

describe("README", () => {
  it("names every Debian package npm test needs in the quick start (as .ci/run installs them)", () => {
    const ci = readFileSync(".ci/run", "utf8");
    const packages = /apt_packages=\(([^)]*)\)/.exec(ci)?.[1]?.trim().split(/\s+/) ?? [];
    expect(packages).toContain("python3-ironic");
    for (const name of packages) expect(section("Quick start")).toContain(name);
  });

  it("documents every variable the configuration reads, and only those", () => {
    // Internal: set by the local stack, or read by Powertools under its own name (POWERTOOLS_LOG_LEVEL).
    const internal = new Set(["VALENCE_LOCAL", "LOG_LEVEL"]);
    const documented = documentedVariables();
    for (const name of configVariables()) {
      if (!internal.has(name)) expect(documented, `README row for ${name}`).toContain(name);
    }
    const readByOthers = new Set(["OS_CLOUD", "OS_AUTH_URL", "OS_*", "POWERTOOLS_LOG_LEVEL"]);
    for (const name of documented) {
      expect(configVariables().includes(name) || readByOthers.has(name), `${name} is read by Valence`).toBe(
        true,
      );
    }
  });
});
