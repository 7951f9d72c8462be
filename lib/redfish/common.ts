import type * as z from "zod/mini";
import { ValidationError } from "../errors.ts";
import { ComposedSystemNotFoundError } from "./errors.ts";
import { type BootSchema, parseResource, type ResetAction, ServiceRootSchema } from "./schemas.ts";
import { isSuccess, type RedfishTransport } from "./transport.ts";
import type { BootOverride, BootSettings } from "./types.ts";

/** Operations both drivers share; they differ only in which resource (System or Node) carries them. */

export const SERVICE_ROOT = "/redfish/v1/";

export interface Target {
  /** What the caller called it. */
  index: string;
  /** Its Redfish path. */
  path: string;
}

/** The service root, which Redfish serves without credentials: anything else there is not a Redfish service. */
export async function readServiceRoot(
  transport: RedfishTransport,
): Promise<z.infer<typeof ServiceRootSchema>> {
  const response = await transport.request("GET", SERVICE_ROOT, { auth: false });
  if (!isSuccess(response.status)) throw transport.statusError(response);
  return parseResource(ServiceRootSchema, response.body, `GET ${SERVICE_ROOT}`, transport.podManager);
}

/** GET of the composed system itself, where a 404 means "no such system" rather than a broken pod manager. */
export async function readTarget<S extends z.ZodMiniType>(
  transport: RedfishTransport,
  schema: S,
  target: Target,
): Promise<{ resource: z.infer<S>; body: unknown; etag?: string }> {
  const response = await transport.request("GET", target.path);
  if (response.status === 404)
    throw new ComposedSystemNotFoundError(transport.podManager, target.index, target.path);
  if (!isSuccess(response.status)) throw transport.statusError(response);
  const resource = parseResource(schema, response.body, `GET ${target.path}`, transport.podManager);
  return { resource, body: response.body, etag: response.headers.get("etag") ?? undefined };
}

/** Posts a reset to the action target the resource advertises (the conventional one if it advertises none). */
export async function postReset(
  transport: RedfishTransport,
  target: Target,
  action: ResetAction | null | undefined,
  conventionalTarget: string,
  type: string,
): Promise<void> {
  const allowed = action?.["ResetType@Redfish.AllowableValues"];
  if (allowed && !allowed.includes(type)) {
    throw new ValidationError(
      `reset type ${type} is not allowed by ${target.path}; allowed: ${allowed.join(", ")}`,
    );
  }
  const actionPath = action ? transport.toPath(action.target) : conventionalTarget;
  const response = await transport.request("POST", actionPath, { body: { ResetType: type } });
  if (response.status === 404)
    throw new ComposedSystemNotFoundError(transport.podManager, target.index, target.path);
  if (!isSuccess(response.status)) throw transport.statusError(response);
}

/**
 * Writes the boot override. The target is checked against the allowable values first so a typo is a 400 naming
 * the choices, not a pod-manager error; the ETag read with the resource goes back as If-Match for services that
 * insist on it (428 otherwise).
 */
export async function patchBoot(
  transport: RedfishTransport,
  target: Target,
  current: { boot?: z.infer<typeof BootSchema> | null; etag?: string },
  boot: BootOverride,
): Promise<void> {
  const allowed = current.boot?.["BootSourceOverrideTarget@Redfish.AllowableValues"];
  if (allowed && !allowed.includes(boot.target)) {
    throw new ValidationError(
      `boot target ${boot.target} is not allowed by ${target.path}; allowed: ${allowed.join(", ")}`,
    );
  }
  const response = await transport.request("PATCH", target.path, {
    body: { Boot: { BootSourceOverrideEnabled: boot.enabled, BootSourceOverrideTarget: boot.target } },
    headers: current.etag ? { "If-Match": current.etag } : undefined,
  });
  if (response.status === 404)
    throw new ComposedSystemNotFoundError(transport.podManager, target.index, target.path);
  if (!isSuccess(response.status)) throw transport.statusError(response);
}

/** DELETE where 404 means the work is already done. */
export async function deleteIdempotent(transport: RedfishTransport, path: string): Promise<void> {
  const response = await transport.request("DELETE", path);
  if (response.status === 404 || isSuccess(response.status)) return;
  throw transport.statusError(response);
}

export function bootSettings(boot: z.infer<typeof BootSchema> | null | undefined): BootSettings | undefined {
  if (!boot) return undefined;
  return {
    enabled: boot.BootSourceOverrideEnabled ?? undefined,
    target: boot.BootSourceOverrideTarget ?? undefined,
    allowedTargets: boot["BootSourceOverrideTarget@Redfish.AllowableValues"] ?? undefined,
  };
}

/** The Location of a 201, or the `@odata.id` of the body it returned. */
export function createdPath(
  transport: RedfishTransport,
  headers: Headers,
  body: unknown,
): string | undefined {
  const location = headers.get("location");
  if (location) return transport.toPath(location);
  const id =
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)["@odata.id"] : undefined;
  return typeof id === "string" ? transport.toPath(id) : undefined;
}

/** A Redfish id in a path segment. */
export function segment(id: string): string {
  return encodeURIComponent(id);
}
