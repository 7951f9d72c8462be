import { UuidParams } from "../lib/api/common.ts";
import { httpRoute, noContent } from "../lib/http/route.ts";
import { podManagerService } from "../lib/runtime/pod-managers.ts";

export const handler = httpRoute({ params: UuidParams }, async ({ params }) => {
  await podManagerService().delete(params.id);
  return noContent();
});
