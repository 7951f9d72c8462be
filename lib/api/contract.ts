/**
 * What each function's routes take and answer, for the API reference: its definition's request schemas (the very
 * ones its handler validates with) joined with its `reference` (`lib/api/routes/<function>.ts`), by function name.
 * `lib/api/openapi.ts` turns ROUTES + this contract into the OpenAPI document.
 *
 * Nothing here runs in a Lambda: `GET /v1/openapi.json` serves the generated `docs/api-ref/openapi.json`.
 */
import type * as z from "zod/mini";
import type { RouteModule, RouteReference } from "./route-definition.ts";
import { ROUTE_MODULES } from "./routes/index.ts";

export type {
  ApiTag,
  RequestExample,
  ResponseReference as ResponseContract,
} from "./route-definition.ts";

export interface RouteContract extends RouteReference {
  /** The definition's `params` schema (path `{...}` segments). */
  readonly params?: z.ZodMiniType;
  /** The definition's `query` schema. */
  readonly query?: z.ZodMiniType;
  /** The definition's `body` schema. */
  readonly body?: z.ZodMiniType;
}

/** The contract of each definition that has a `reference` (local-only routes have none). */
export function contractOf(modules: Readonly<Record<string, RouteModule>>): Record<string, RouteContract> {
  const contract: Record<string, RouteContract> = {};
  for (const [handler, { route, reference }] of Object.entries(modules)) {
    if (!reference) continue;
    contract[handler] = {
      ...reference(),
      ...(route.params ? { params: route.params } : {}),
      ...(route.query ? { query: route.query } : {}),
      ...(route.body ? { body: route.body } : {}),
    };
  }
  return contract;
}

/** One entry per function of `ROUTES` (`lib/api/routes.ts`) that the reference documents. */
export const CONTRACT: Readonly<Record<string, RouteContract>> = contractOf(ROUTE_MODULES);
