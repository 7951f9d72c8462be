import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, spawnUntil } from "../support/processes.ts";

const PASSWORD = "Restart-Pw-5b1d0c3a";

describe("npm start (the local stack as a process)", () => {
  let dataDir = "";
  afterAll(() => (dataDir ? rm(dataDir, { recursive: true, force: true }) : undefined));

  let emulatorPort = 0;
  async function start(port: number) {
    return spawnUntil("node_modules/.bin/tsx", ["local/start.ts"], {
      env: {
        ...process.env,
        VALENCE_DATA_DIR: dataDir,
        VALENCE_API_PORT: String(port),
        VALENCE_EMULATOR_PORT: String(emulatorPort),
        POWERTOOLS_LOG_LEVEL: "DEBUG",
      },
      ready: /listening on http:\/\/127\.0\.0\.1:\d+/,
    });
  }

  it("keeps a pod manager across a restart, its password only in the 0600 secret file", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "valence-start-"));
    const port = await freePort();
    emulatorPort = await freePort();
    const base = `http://127.0.0.1:${port}`;

    const first = await start(port);
    const created = await fetch(`${base}/v1/pod_managers`, {
      method: "POST",
      body: JSON.stringify({
        name: "restart-podm",
        url: "http://192.0.2.10:8443",
        authentication: [{ type: "basic", auth_items: { username: "admin", password: PASSWORD } }],
      }),
    });
    expect(created.status).toBe(201);
    const { uuid } = (await created.json()) as { uuid: string };
    expect(await first.stop("SIGINT")).toBe(0);

    const second = await start(port);
    const shown = await fetch(`${base}/v1/pod_managers/${uuid}`);
    const text = await shown.text();
    expect(shown.status).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ uuid, name: "restart-podm" });
    expect(text).not.toContain(PASSWORD);
    expect(await second.stop("SIGTERM")).toBe(0);

    expect(first.output() + second.output()).not.toContain(PASSWORD);
    const secrets = join(dataDir, "secrets.json");
    expect((await stat(secrets)).mode & 0o777).toBe(0o600);
    expect(await readFile(secrets, "utf8")).toContain(PASSWORD);
  });
});
