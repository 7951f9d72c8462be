/** Ironic microversions are `MAJOR.MINOR`; compared numerically (1.9 < 1.10). */
export type ApiVersion = readonly [major: number, minor: number];

/** The oldest version we accept: from 1.11 new nodes start in `enroll`, not `available`. */
export const MIN_API_VERSION = "1.11";
/** The newest version whose behaviour this driver was written and tested against. */
export const MAX_API_VERSION = "1.82";

export function parseVersion(value: string): ApiVersion | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2])];
}

export function compareVersions(a: ApiVersion, b: ApiVersion): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function formatVersion(version: ApiVersion): string {
  return `${version[0]}.${version[1]}`;
}

/**
 * The highest version both sides speak, or undefined when the ranges do not meet (server max below our
 * minimum, or server min above our maximum).
 */
export function chooseVersion(
  server: { min?: ApiVersion; max: ApiVersion },
  ours: { min: ApiVersion; max: ApiVersion },
): ApiVersion | undefined {
  const chosen = compareVersions(server.max, ours.max) < 0 ? server.max : ours.max;
  if (compareVersions(chosen, ours.min) < 0) return undefined;
  if (server.min && compareVersions(chosen, server.min) < 0) return undefined;
  return chosen;
}
