import { describe, expect, it } from "vitest";
import { NodeBusyError, NodeManagedByIronicError } from "../../lib/errors.ts";
import { CompositionService } from "../../lib/nodes/composition-service.ts";
import type { Node } from "../../lib/nodes/model.ts";
import type { NodeRepository } from "../../lib/nodes/repository.ts";
import { NodeService } from "../../lib/nodes/service.ts";
import type { PodManager } from "../../lib/podmanagers/model.ts";
import { PodManagerSessions } from "../../lib/podmanagers/sessions.ts";
import type { ComposedSystem, PodManagerClient } from "../../lib/redfish/index.ts";
import { newNode } from "../support/fixtures.ts";

const podm: PodManager = {
  uuid: "0b0e7a0c-5f54-4b54-8f53-3f0c8b7d9e01",
  name: "p",
  url: "http://podm",
  driver: "redfish",
  verify_ca: true,
  status: "online",
  username: "u",
  credentials_ref: "ref",
  created_at: "",
  updated_at: "",
  version: 1,
};

const system: ComposedSystem = {
  index: "sys-9",
  resourceUri: "/redfish/v1/Systems/sys-9",
  hardware: { cpus: 4, memory_mb: 1024, local_gb: 10, cpu_arch: "x86_64", nics: [] },
};

function fakeClient(calls: string[]): PodManagerClient {
  return {
    probe: async () => ({}),
    listComposedSystems: async () => [],
    getSystem: async () => system,
    compose: async () => {
      calls.push("compose");
      return system;
    },
    decompose: async (index) => {
      calls.push(`decompose ${index}`);
    },
    reset: async (index, type) => {
      calls.push(`reset ${index} ${type}`);
    },
    setBoot: async () => {
      calls.push("boot");
    },
    close: async () => {
      calls.push("close");
    },
  };
}

function setup(repository: Partial<NodeRepository>) {
  const calls: string[] = [];
  const nodes = {
    findByName: async () => undefined,
    get: async () => undefined,
    ...repository,
  } as NodeRepository;
  const sessions = new PodManagerSessions(
    { get: async () => podm } as never,
    { get: async () => ({ username: "u", password: "p" }) } as never,
    () => fakeClient(calls),
  );
  return { calls, service: new CompositionService(nodes, new NodeService(nodes), sessions) };
}

describe("CompositionService", () => {
  it("decomposes the system again when the node cannot be recorded", async () => {
    const { calls, service } = setup({
      create: async () => {
        throw new Error("DynamoDB is down");
      },
    });

    await expect(service.compose({ name: "n1", podm_id: podm.uuid }, "r1")).rejects.toThrow(
      "DynamoDB is down",
    );
    expect(calls).toEqual(["compose", "decompose sys-9", "close"]);
  });

  it("refuses to act on or delete a node Ironic manages, or one that is busy, without calling the pod manager", async () => {
    const ironicNode: Node = {
      ...newNode({ name: "in-ironic", managed_by: "ironic" }),
      created_at: "",
      updated_at: "",
      version: 3,
    };
    const busyNode: Node = {
      ...newNode({ name: "busy" }),
      intent: { op: "registering", request_id: "r", started_at: "" },
      created_at: "",
      updated_at: "",
      version: 2,
    };
    const { calls, service } = setup({
      findByName: async (name) =>
        name === "in-ironic" ? ironicNode : name === "busy" ? busyNode : undefined,
    });

    await expect(service.decompose("in-ironic", "r")).rejects.toBeInstanceOf(NodeManagedByIronicError);
    await expect(service.act("in-ironic", { Reset: { Type: "On" } }, "r")).rejects.toBeInstanceOf(
      NodeManagedByIronicError,
    );
    await expect(service.decompose("busy", "r")).rejects.toBeInstanceOf(NodeBusyError);
    expect(calls).toEqual([]);
  });
});
