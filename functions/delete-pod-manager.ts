import { route } from "../lib/api/routes/delete-pod-manager.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute(route, async ({ params }) => {
  await podManagerService().delete(params.id);
  return noContent();
});
