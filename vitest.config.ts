import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    // Fails a file any of whose requests to the local API took 29 s or more (API Gateway would have cut it).
    setupFiles: ["test/support/request-limits.setup.ts"],
    reporters: ["default", ["json", { outputFile: ".test-results/results.json" }]],
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      POWERTOOLS_LOG_LEVEL: "WARN",
    },
  },
});
