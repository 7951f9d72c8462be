import { createServer, type Server, type Socket } from "node:net";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDocumentClient } from "../../lib/db/client.ts";

/**
 * A DynamoDB endpoint that accepts connections and reads requests but never answers: what a hung dynalite, or a
 * network path that drops the responses, looks like to the client.
 */
describe("the DynamoDB client against an endpoint that never answers", () => {
  let server: Server;
  let endpoint: string;
  const sockets = new Set<Socket>();
  let requestsSeen = 0;

  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on("data", (chunk: Buffer) => {
        if (chunk.toString("latin1").startsWith("POST ")) requestsSeen++;
      });
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no TCP address");
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("fails the request with a TimeoutError after the request timeout instead of waiting on", async () => {
    const db = createDocumentClient({
      region: "us-east-1",
      endpoint,
      connectionTimeoutMs: 1_000,
      requestTimeoutMs: 200,
    });

    const failure = await db
      .send(new GetCommand({ TableName: "valence", Key: { pk: "NODE#n1", sk: "NODE" } }))
      .then(
        () => undefined,
        (error: unknown) => error,
      )
      .finally(() => db.destroy());

    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe("TimeoutError");
    expect((failure as Error).message).toContain("200 ms requestTimeout");
    // The connection was made and the request sent: it is the answer that never came.
    expect(requestsSeen).toBeGreaterThanOrEqual(1);
  });
});
