/**
 * get-latency: `GET /v1/nodes/{id}` through the local API (HTTP → the API-Gateway-shaped event → the very
 * get-node handler → DynamoDB) next to a bare DynamoDB GetItem of the same item on the same dynalite, from the
 * same process, interleaved request by request.
 *
 * Target (issue 9): p50 ≤ 1.5× the bare GetItem.
 *
 * `npx tsx bench/get-latency.ts` — env: BENCH_REQUESTS (default 1000 per side).
 */
import { randomUUID } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { createDocumentClient } from "../lib/db/client.ts";
import { TABLE } from "../lib/db/table.ts";
import { ratio, renderTable, saveResult, verdict } from "./support/report.ts";
import { envInt, printWhenMain, progress } from "./support/run.ts";
import { expectStatus, startBenchStack } from "./support/stack.ts";
import { median, percentile, round } from "./support/stats.ts";
import { TrafficRecorder } from "./support/traffic.ts";

const REQUESTS = Math.max(50, envInt("BENCH_REQUESTS", 1000));
const WARMUP = 50;
const TARGET = 1.5;

export async function runGetLatency(): Promise<string> {
  progress("get-latency: starting the local stack (dynalite, API)");
  const bench = await startBenchStack({});
  const traffic = new TrafficRecorder();
  try {
    const { stack } = bench;
    const { nodeRepository, documentClient } = await import("../lib/runtime.ts");
    traffic.instrumentDynamo(documentClient());
    const node = await nodeRepository().create({
      uuid: randomUUID(),
      name: "latency-node",
      description: "get-latency benchmark",
      podm_id: randomUUID(),
      index: "1",
      resource_uri: "/redfish/v1/Systems/1",
      managed_by: "valence",
      ironic_node_uuid: null,
      hardware: {
        cpus: 16,
        memory_mb: 65_536,
        local_gb: 446,
        cpu_arch: "x86_64",
        nics: [0, 1, 2, 3].map((i) => ({ mac: `52:54:00:00:00:0${i}`, enabled: true })),
      },
    });
    // The bare side: its own client, as a caller with nothing but the SDK would have.
    const bare = createDocumentClient({ region: "us-east-1", endpoint: stack.dynamoEndpoint });
    const getItem = () =>
      bare.send(
        new GetCommand({
          TableName: stack.tableName,
          Key: { [TABLE.partitionKey]: `NODE#${node.uuid}`, [TABLE.sortKey]: "NODE" },
          ConsistentRead: true,
        }),
      );
    const getNode = async (id: string) => {
      const response = await fetch(`${stack.apiUrl}/v1/nodes/${id}`);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET /v1/nodes/${id} answered ${response.status}`);
    };
    expectStatus(await bench.call("GET", `/v1/nodes/${node.uuid}`), 200, "GET the seeded node");

    // The same handler without the HTTP hop (what API Gateway costs in AWS is not ours to cut), and the hop alone.
    const { handler } = await import("../functions/get-node.ts");
    const invokeDirect = async () => {
      const requestId = randomUUID();
      const result = await handler(
        {
          version: "2.0",
          routeKey: "GET /v1/nodes/{id}",
          rawPath: `/v1/nodes/${node.uuid}`,
          rawQueryString: "",
          headers: { host: "localhost", "x-forwarded-proto": "http" },
          pathParameters: { id: node.uuid },
          requestContext: {
            accountId: "local",
            apiId: "local",
            domainName: "localhost",
            domainPrefix: "local",
            http: {
              method: "GET",
              path: `/v1/nodes/${node.uuid}`,
              protocol: "HTTP/1.1",
              sourceIp: "127.0.0.1",
              userAgent: "bench",
            },
            requestId,
            routeKey: "GET /v1/nodes/{id}",
            stage: "$default",
            time: new Date().toUTCString(),
            timeEpoch: Date.now(),
          },
          isBase64Encoded: false,
        },
        { awsRequestId: requestId, getRemainingTimeInMillis: () => 30_000 } as Context,
      );
      if (result.statusCode !== 200) throw new Error(`get-node handler answered ${result.statusCode}`);
    };
    const getRoot = async () => {
      const response = await fetch(`${stack.apiUrl}/`);
      await response.arrayBuffer();
    };

    const sides = {
      api_by_uuid: () => getNode(node.uuid),
      api_by_name: () => getNode(node.name),
      handler_direct: invokeDirect,
      api_root: getRoot,
      bare_get_item: getItem,
    };
    type Side = keyof typeof sides;
    const samples = Object.fromEntries(Object.keys(sides).map((side) => [side, [] as number[]])) as Record<
      Side,
      number[]
    >;
    const dynamoCalls = Object.fromEntries(Object.keys(sides).map((side) => [side, 0])) as Record<
      Side,
      number
    >;
    for (let i = 0; i < WARMUP; i++) for (const run of Object.values(sides)) await run();
    progress(`get-latency: ${REQUESTS} requests per side, interleaved`);
    for (let i = 0; i < REQUESTS; i++) {
      for (const side of Object.keys(sides) as Side[]) {
        const before = traffic.calls.length;
        const start = performance.now();
        await sides[side]();
        samples[side].push(performance.now() - start);
        dynamoCalls[side] += traffic.calls.length - before;
      }
    }
    dynamoCalls.bare_get_item = REQUESTS; // its own client is not instrumented: one GetItem per request
    bare.destroy();

    const bareP50 = median(samples.bare_get_item);
    const bareP99 = percentile(samples.bare_get_item, 99);
    const rows = (Object.keys(sides) as Side[]).map((side) => ({
      side,
      p50_ms: round(median(samples[side]), 2),
      p99_ms: round(percentile(samples[side], 99), 2),
      ratio_p50: round(median(samples[side]) / bareP50, 2),
      ratio_p99: round(percentile(samples[side], 99) / bareP99, 2),
      dynamodb_calls_per_request: round(dynamoCalls[side] / REQUESTS, 2),
    }));
    const byUuid = rows.find((row) => row.side === "api_by_uuid");
    const met = (byUuid?.ratio_p50 ?? Number.POSITIVE_INFINITY) <= TARGET;
    const labels: Record<Side, string> = {
      api_by_uuid: "GET /v1/nodes/{uuid} through the API",
      api_by_name: "GET /v1/nodes/{name} through the API",
      handler_direct: "get-node handler called in-process (no HTTP)",
      api_root: "GET / through the API (HTTP hop, no DynamoDB)",
      bare_get_item: "bare GetItem (SDK)",
    };
    const table = renderTable(
      `get-latency: ${REQUESTS} requests per side, interleaved, same dynalite`,
      ["request", "p50", "p99", "vs GetItem p50 (p99)", "DynamoDB calls", "target"],
      rows.map((row) => [
        labels[row.side],
        `${row.p50_ms.toFixed(2)} ms`,
        `${row.p99_ms.toFixed(2)} ms`,
        row.side === "bare_get_item" ? "1.00×" : `${ratio(row.ratio_p50)} (${ratio(row.ratio_p99)})`,
        row.dynamodb_calls_per_request,
        row.side === "api_by_uuid" ? `≤ ${TARGET}× ${verdict(met)}` : "",
      ]),
    );
    await saveResult({
      name: "get-latency",
      parameters: { requests: REQUESTS, warmup: WARMUP },
      results: rows,
      targets: {
        get_node: {
          target: `GET /v1/nodes/{uuid} p50 ≤ ${TARGET}× a bare GetItem`,
          measured: `${byUuid?.ratio_p50}× (${byUuid?.p50_ms} ms vs ${round(bareP50, 2)} ms)`,
          met,
        },
      },
      table,
    });
    return table;
  } finally {
    await bench.stop();
  }
}

await printWhenMain(import.meta.url, runGetLatency);
