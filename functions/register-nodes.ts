import { route } from "../lib/api/routes/register-nodes.ts";
import { accepted, httpRoute } from "../lib/http/route.ts";
import { toOperationView } from "../lib/operations/model.ts";
import { OPERATION_RETRY_AFTER_SECONDS } from "../lib/operations/schemas.ts";
import { enrollmentService } from "../lib/runtime/enrollment.ts";

/** `POST /v1/nodes/register`: enroll many nodes at once, 202 with the enrollment's operation. */
export const handler = httpRoute(route, async ({ body, baseUrl, requestId, principal }) => {
  const operation = await enrollmentService().enroll(body, { requestId, principal });
  return accepted(toOperationView(operation), operation, baseUrl, OPERATION_RETRY_AFTER_SECONDS);
});
