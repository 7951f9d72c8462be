import { afterAll } from "vitest";
import { assertRequestsWithin } from "./request-limits.ts";

// After each test file's own hooks (which stop its stacks): no request of the file came near API Gateway's limit.
afterAll(() => assertRequestsWithin());
