import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RedfishEmulator, startRedfishEmulator } from "../../local/redfish-emulator/index.ts";

const AUTH = `Basic ${Buffer.from("admin:admin").toString("base64")}`;

async function compose(emulator: RedfishEmulator, name: string): Promise<string> {
  const response = await fetch(`${emulator.url}/redfish/v1/Systems`, {
    method: "POST",
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: JSON.stringify({ Name: name, Processors: { Members: [{ TotalCores: 1 }] } }),
  });
  expect(response.status).toBe(201);
  return response.headers.get("location") as string;
}

describe("Redfish emulator with a state file", () => {
  let dir = "";
  const running: RedfishEmulator[] = [];
  afterEach(async () => {
    for (const emulator of running.splice(0)) await emulator.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const start = async (stateFile: string) => {
    const emulator = await startRedfishEmulator({ stateFile });
    running.push(emulator);
    return emulator;
  };

  it("keeps its compositions across a restart, and numbers new ones after them", async () => {
    dir = await mkdtemp(join(tmpdir(), "valence-emulator-"));
    const stateFile = join(dir, "pod.json");
    const first = await start(stateFile);
    const kept = await compose(first, "kept");
    const dropped = await compose(first, "dropped");
    expect(
      (await fetch(`${first.url}${dropped}`, { method: "DELETE", headers: { authorization: AUTH } })).status,
    ).toBe(204);
    await first.close();
    running.length = 0;

    const second = await start(stateFile);
    expect(second.composedSystems().map((system) => [system.systemUri, system.name])).toEqual([
      [kept, "kept"],
    ]);
    const shown = await fetch(`${second.url}${kept}`, { headers: { authorization: AUTH } });
    expect(shown.status).toBe(200);
    const next = await compose(second, "next");
    expect(next).not.toBe(kept);
    expect(next).not.toBe(dropped);
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
  });
});
