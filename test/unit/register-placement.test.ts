import { describe, expect, it } from "vitest";
import { IronicFeatureUnsupportedError } from "../../lib/ironic/index.ts";
import { RegistrationService } from "../../lib/nodes/registration-service.ts";
import { RegisterNodeBody } from "../../lib/nodes/schemas.ts";
import type { NewPodManager, PodManager, PodManagerChanges } from "../../lib/podmanagers/model.ts";
import type { PodManagerRepository } from "../../lib/podmanagers/repository.ts";
import { PodManagerService } from "../../lib/podmanagers/service.ts";
import type { ComposedSystem } from "../../lib/redfish/index.ts";
import type { Credentials, SecretStore } from "../../lib/secrets/store.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import {
  finderOf,
  MEMORY_PODM,
  MemoryHistory,
  MemoryNodeRepository,
  memorySessions,
} from "../support/memory-registration.ts";

const CONTEXT = { requestId: "req-1", principal: "tester", remainingMs: () => 600_000 };

async function setup() {
  const ironic = new MemoryIronic();
  const nodes = new MemoryNodeRepository();
  const node = await nodes.create(
    newNode({
      name: "node-a",
      podm_id: MEMORY_PODM.uuid,
      hardware: {
        cpus: 2,
        memory_mb: 1024,
        local_gb: 10,
        cpu_arch: "x86_64",
        nics: [{ mac: "52:54:00:bb:00:01", enabled: true }],
      },
    }),
  );
  const system: ComposedSystem = {
    index: node.index,
    resourceUri: node.resource_uri,
    hardware: node.hardware,
  };
  const { sessions } = memorySessions(() => system);
  const service = new RegistrationService({
    nodes,
    finder: finderOf(nodes),
    sessions,
    ironic: async () => ironic,
    defaultResourceClass: "baremetal",
    deployment: { id: async () => "deployment-1" },
    history: new MemoryHistory(),
  });
  return { ironic, nodes, node, service };
}

describe("register with placement fields (in-memory Ironic)", () => {
  it("creates the node without owner, then sets it with a PATCH (Ironic takes it at create from system scope only)", async () => {
    const s = await setup();
    await s.service.register(
      "node-a",
      RegisterNodeBody.parse({ owner: "project-a", lessee: "p-b" }),
      CONTEXT,
    );

    const [created] = s.ironic.callsOf("createNode") as [Record<string, unknown>][];
    expect(created?.[0]).toMatchObject({ lessee: "p-b", resource_class: "baremetal" });
    expect(created?.[0]).not.toHaveProperty("owner");
    const patches = s.ironic.callsOf("updateNode");
    expect(patches).toContainEqual([expect.any(String), [{ op: "add", path: "/owner", value: "project-a" }]]);
    const [ironicNode] = [...s.ironic.nodes.values()];
    expect(ironicNode).toMatchObject({ owner: "project-a", lessee: "p-b" });
  });

  it("refuses a field the negotiated version lacks before creating anything, and frees the node", async () => {
    const s = await setup();
    s.ironic.version = "1.46";
    const refused = s.service.register("node-a", RegisterNodeBody.parse({ automated_clean: false }), CONTEXT);
    await expect(refused).rejects.toBeInstanceOf(IronicFeatureUnsupportedError);
    await expect(refused).rejects.toThrow("body.automated_clean: needs Ironic API 1.47 or later");
    expect(s.ironic.callsOf("createNode")).toEqual([]);
    const stored = await s.nodes.get(s.node.uuid);
    expect(stored).toMatchObject({ managed_by: "valence", intent: null });
  });
});

class MemorySecrets implements SecretStore {
  async put(name: string) {
    return name;
  }
  async get(): Promise<Credentials> {
    return { username: "admin", password: "pw" };
  }
  async delete() {}
}

class MemoryPodManagers implements PodManagerRepository {
  readonly items = new Map<string, PodManager>();
  async create(podm: NewPodManager) {
    const stored = { ...podm, created_at: "t", updated_at: "t", version: 1 };
    this.items.set(podm.uuid, stored);
    return stored;
  }
  async get(uuid: string) {
    return this.items.get(uuid);
  }
  async findByName(name: string) {
    return [...this.items.values()].find((p) => p.name === name);
  }
  async list() {
    return [...this.items.values()];
  }
  async update(uuid: string, version: number, changes: PodManagerChanges) {
    const current = this.items.get(uuid) as PodManager;
    const next: Record<string, unknown> = { ...current, version: version + 1 };
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) delete next[field];
      else if (value !== undefined) next[field] = value;
    }
    this.items.set(uuid, next as PodManager);
    return next as PodManager;
  }
  async delete(uuid: string) {
    this.items.delete(uuid);
  }
}

describe("PodManagerService with placement fields", () => {
  const body = {
    name: "podm-a",
    url: "https://podm.example",
    driver: "redfish" as const,
    verify_ca: true,
    authentication: [{ type: "basic" as const, auth_items: { username: "admin", password: "pw" } }],
  };

  function service(refuse?: Error) {
    const checked: unknown[] = [];
    const repository = new MemoryPodManagers();
    const podms = new PodManagerService({
      repository,
      secrets: new MemorySecrets(),
      countNodes: async () => 0,
      checkPlacement: async (placement) => {
        checked.push(placement);
        if (refuse) throw refuse;
      },
    });
    return { podms, repository, checked };
  }

  it("stores the placement given at create, checked against Ironic first", async () => {
    const s = service();
    const podm = await s.podms.create({ ...body, conductor_group: "rack1", automated_clean: false });
    expect(podm).toMatchObject({ conductor_group: "rack1", automated_clean: false });
    expect(s.checked).toEqual([{ conductor_group: "rack1", automated_clean: false }]);
  });

  it("asks nothing of Ironic when no placement field is set or one is only cleared", async () => {
    const s = service();
    const podm = await s.podms.create(body);
    await s.podms.update(podm.uuid, { owner: null, name: "podm-b" });
    expect(s.checked).toEqual([]);
  });

  it("checks only the fields a PATCH sets, and clears those set to null", async () => {
    const s = service();
    const podm = await s.podms.create({ ...body, owner: "p", shard: "s1" });
    s.checked.length = 0;
    const { podManager: updated } = await s.podms.update(podm.uuid, { owner: null, lessee: "q" });
    expect(s.checked).toEqual([{ lessee: "q" }]);
    expect(updated).toMatchObject({ lessee: "q", shard: "s1" });
    expect(updated).not.toHaveProperty("owner");
  });

  it("saves nothing when Ironic refuses a field", async () => {
    const s = service(IronicFeatureUnsupportedError.of(["shard"], "1.81"));
    await expect(s.podms.create({ ...body, shard: "s1" })).rejects.toThrow("shard: needs Ironic API 1.82");
    expect(s.repository.items.size).toBe(0);
  });
});
