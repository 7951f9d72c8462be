import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Structured JSON logs. Never pass a request body or a credential to it: bodies of pod-manager and register
 * requests may hold passwords.
 */
export const logger = new Logger({ serviceName: "valence" });
