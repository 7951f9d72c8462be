import { defineRoute } from "../route-definition.ts";

export const route = defineRoute({
  method: "POST",
  path: "/v1/reconcile",
  summary: "Run one reconcile pass now (local stack only)",
  table: "write",
  readsSecrets: true,
  ironic: true,
  localOnly: true,
  publishesEvents: true,
});
