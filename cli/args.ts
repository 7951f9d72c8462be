import { InvalidArgumentError } from "commander";
import type { ValenceClient } from "./client.ts";
import { ApiError } from "./errors.ts";

/** A commander option parser for an integer in [min, max]; a bad value is a usage error (exit 2). */
export function integerIn(min: number, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || number < min || number > max) {
      throw new InvalidArgumentError(
        max >= Number.MAX_SAFE_INTEGER
          ? `must be an integer of at least ${min}.`
          : `must be an integer from ${min} to ${max}.`,
      );
    }
    return number;
  };
}

/** Repeatable options (`--resource-block a --resource-block b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** `/v1/nodes/<name or uuid>` with the id escaped for the path. */
export function nodePath(node: string, suffix = ""): string {
  return `/v1/nodes/${encodeURIComponent(node)}${suffix}`;
}

/**
 * The API takes pod managers by uuid only; operators know them by name. A name is looked up in the list, and an
 * unknown one answers like the API would (404, exit 3).
 */
export async function resolvePodManager(client: ValenceClient, ref: string): Promise<string> {
  if (isUuid(ref)) return ref;
  const { body } = await client.call<{ uuid: string; name: string }[]>("GET", "/v1/pod_managers");
  const match = body.find((podm) => podm.name === ref);
  if (!match) {
    throw new ApiError(
      404,
      undefined,
      "PodManagerNotFound",
      `Not Found: no pod manager has the name or uuid ${ref}`,
    );
  }
  return match.uuid;
}
