import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { watchComposition } from "../../lib/nodes/composition-watch.ts";
import {
  compositionRecord,
  compositionVerdict,
  describeChanges,
  hardwareChanges,
  hasChanges,
} from "../../lib/nodes/hardware-drift.ts";
import { syncHardwareForOperation } from "../../lib/nodes/hardware-sync.ts";
import { hardwareTraits } from "../../lib/nodes/hardware-traits.ts";
import type { Hardware, Node } from "../../lib/nodes/model.ts";
import { NODE_MARK } from "../../lib/nodes/ownership.ts";
import { withComposition, withHardwareDrift, withSyncedHardware } from "../../lib/nodes/transitions.ts";
import { initialOperation } from "../../lib/operations/model.ts";
import { dmtfComposition } from "../../lib/redfish/composition.ts";
import { newNode } from "../support/fixtures.ts";
import { MemoryIronic } from "../support/memory-ironic.ts";
import {
  MEMORY_PODM,
  MemoryHistory,
  MemoryNodeRepository,
  memorySessions,
} from "../support/memory-registration.ts";

const MOCKUP = new URL(
  "../../../shared/fixtures/redfish-dmtf/public-composability/Systems/",
  import.meta.url,
);
const mockupSystem = (name: string) =>
  JSON.parse(readFileSync(new URL(`${name}/index.json`, MOCKUP), "utf8")) as Parameters<
    typeof dmtfComposition
  >[0];

const HW: Hardware = {
  cpus: 32,
  memory_mb: 65536,
  local_gb: 0,
  cpu_arch: "x86_64",
  nics: [
    { mac: "52:54:00:00:00:01", enabled: true },
    { mac: "52:54:00:00:00:02", enabled: false },
  ],
};
const BLOCK = (id: string) => `ResourceBlocks:/redfish/v1/CompositionService/ResourceBlocks/${id}`;

describe("composition digest", () => {
  it("is the same whatever order the links come in, and moves when a block is added", () => {
    const a = compositionRecord([BLOCK("Compute1"), BLOCK("Drive1")]);
    expect(compositionRecord([BLOCK("Drive1"), BLOCK("Compute1")])).toEqual(a);
    expect(compositionRecord([BLOCK("Compute1"), BLOCK("Drive1"), BLOCK("Drive2")]).digest).not.toBe(
      a.digest,
    );
  });

  it("reads a DMTF system's resource blocks as the mockups link them", () => {
    const identity = (link: string) => link;
    expect(dmtfComposition(mockupSystem("SystemPreResourceBlock"), identity)).toEqual([]);
    expect(dmtfComposition(mockupSystem("SystemAfterAddResourceAction"), identity)).toEqual([
      BLOCK("DriveBlock10"),
      BLOCK("SystemBlock12"),
    ]);
  });
});

describe("hardwareChanges", () => {
  it("names blocks added and removed, properties before → after, enabled MACs added and removed", () => {
    const after: Hardware = {
      ...HW,
      local_gb: 893,
      nics: [
        { mac: "52:54:00:00:00:03", enabled: true },
        { mac: "52:54:00:00:00:02", enabled: true },
      ],
    };
    const changes = hardwareChanges(
      { hardware: HW, links: [BLOCK("Compute1"), BLOCK("Drive1")] },
      { hardware: after, links: [BLOCK("Compute1"), BLOCK("Drive2")] },
    );
    expect(changes).toEqual({
      blocks_added: [BLOCK("Drive2")],
      blocks_removed: [BLOCK("Drive1")],
      properties: [{ name: "local_gb", before: "0", after: "893" }],
      macs_added: ["52:54:00:00:00:02", "52:54:00:00:00:03"],
      macs_removed: ["52:54:00:00:00:01"],
    });
    expect(describeChanges(changes)).toContain("local_gb 0 → 893");
  });

  it("finds no change in an unchanged composition, and names no blocks when the earlier links are unknown", () => {
    const links = [BLOCK("Compute1")];
    expect(
      hasChanges(hardwareChanges({ hardware: HW, links }, { hardware: structuredClone(HW), links })),
    ).toBe(false);
    const unknown = hardwareChanges({ hardware: HW }, { hardware: { ...HW, cpus: 16 }, links });
    expect(unknown.blocks_added).toEqual([]);
    expect(unknown.properties).toEqual([{ name: "cpus", before: "32", after: "16" }]);
  });
});

describe("compositionVerdict", () => {
  const links = [BLOCK("Compute1")];
  const base = {
    composition: compositionRecord(links),
    hardware_drift: null,
    managed_by: "ironic" as const,
    operation: null,
    intent: null,
  };
  const drift = {
    since: "2026-01-01T00:00:00.000Z",
    changes: hardwareChanges({ hardware: HW }, { hardware: HW, links }),
    hardware: HW,
  };

  it("costs nothing while the listing's links match the node's", () => {
    expect(compositionVerdict(base, links, { provision_state: "available" })).toEqual({ do: "nothing" });
  });

  it("reads the system when the links moved or were never kept", () => {
    expect(compositionVerdict(base, [...links, BLOCK("Drive1")], undefined)).toEqual({ do: "read" });
    expect(compositionVerdict({ ...base, composition: null }, links, undefined)).toEqual({ do: "read" });
  });

  it("syncs a pending drift once Ironic rests the node unused and nothing runs on it", () => {
    const flagged = { ...base, hardware_drift: drift };
    expect(compositionVerdict(flagged, links, { provision_state: "active" })).toEqual({ do: "nothing" });
    expect(compositionVerdict(flagged, links, { provision_state: "manageable" })).toEqual({ do: "sync" });
    const busy = { ...flagged, operation: { id: "op", kind: "clean", started_at: "2026-01-01T00:00:00Z" } };
    expect(compositionVerdict(busy, links, { provision_state: "manageable" })).toEqual({ do: "nothing" });
  });
});

describe("syncHardwareForOperation", () => {
  async function setUp(provisionState: string) {
    const ironic = new MemoryIronic();
    const nodes = new MemoryNodeRepository();
    const history = new MemoryHistory();
    const created = await ironic.createNode({ name: "drifted", driver: "redfish" });
    (ironic.nodes.get(created.uuid) as { provision_state: string }).provision_state = provisionState;
    const registered = await nodes.create(
      newNode({ managed_by: "ironic", ironic_node_uuid: created.uuid, hardware: HW }),
    );
    const mark = { [NODE_MARK]: registered.uuid };
    await ironic.createPort({
      node_uuid: created.uuid,
      address: "52:54:00:00:00:01",
      pxe_enabled: true,
      extra: mark,
    });
    await ironic.createPort({
      node_uuid: created.uuid,
      address: "52:54:00:00:00:09",
      pxe_enabled: false,
      extra: mark,
    });
    // Not Valence's: made by someone else (an operator, Ironic's inspection).
    await ironic.createPort({
      node_uuid: created.uuid,
      address: "52:54:00:00:00:0a",
      pxe_enabled: false,
      extra: {},
    });
    const after: Hardware = {
      ...HW,
      local_gb: 893,
      nics: [
        { mac: "52:54:00:00:00:01", enabled: true },
        { mac: "52:54:00:00:00:04", enabled: true },
      ],
    };
    const links = [BLOCK("Compute1"), BLOCK("Drive1")];
    const changes = hardwareChanges({ hardware: HW, links: [BLOCK("Compute1")] }, { hardware: after, links });
    const node = await nodes.update(
      registered.uuid,
      { version: registered.version },
      withHardwareDrift(compositionRecord(links), {
        since: "2026-01-01T00:00:00.000Z",
        changes,
        hardware: after,
      }),
    );
    const operation = initialOperation(
      {
        id: "op-1",
        node_uuid: node.uuid,
        node_name: node.name,
        kind: "hardware_sync",
        steps: ["hardware_sync"],
        request_id: "req-1",
        principal: "reconciler",
      },
      new Date(),
      60_000,
    );
    return { ironic, nodes, history, node, operation, ironicNodeUuid: created.uuid, after };
  }

  it("writes the properties, adds ports for new MACs, deletes ours that vanished, never touches another's", async () => {
    const { ironic, nodes, history, node, operation, ironicNodeUuid, after } = await setUp("available");
    const result = await syncHardwareForOperation(operation, { nodes, ironic, history });
    expect(result.ok).toBe(true);
    expect(ironic.nodes.get(ironicNodeUuid)?.properties).toMatchObject({ local_gb: 893, cpus: 32 });
    const ports = [...ironic.ports.values()].filter((port) => port.node_uuid === ironicNodeUuid);
    expect(ports.map((port) => port.address).sort()).toEqual([
      "52:54:00:00:00:01",
      "52:54:00:00:00:04",
      "52:54:00:00:00:0a",
    ]);
    expect(ports.find((port) => port.address === "52:54:00:00:00:04")?.extra).toEqual({
      [NODE_MARK]: node.uuid,
    });
    const stored = (await nodes.get(node.uuid)) as Node;
    expect(stored.hardware).toEqual(after);
    expect(stored.hardware_drift).toBeNull();
    expect(history.events.map((event) => event.action)).toEqual(["hardware_sync"]);
    expect(result.detail).toContain("ports removed 52:54:00:00:00:09");
  });

  it("gives the node the traits the rules give its new hardware, keeping the register's own", async () => {
    const { ironic, nodes, node, operation, ironicNodeUuid } = await setUp("available");
    const cpuOnly = { processors: [{ type: "CPU", count: 2 }], drives: [], nics: [], memory: [] };
    const withGpus = {
      ...cpuOnly,
      processors: [...cpuOnly.processors, { type: "GPU", manufacturer: "NVIDIA", model: "A100", count: 4 }],
    };
    const before = hardwareTraits({ ...HW, summary: cpuOnly });
    const drift = node.hardware_drift as NonNullable<Node["hardware_drift"]>;
    // Registered CPU-only with the rules' traits and one of the register's own; a GPU block added since.
    const registered = await nodes.update(
      node.uuid,
      { version: node.version },
      withSyncedHardware({ ...HW, summary: cpuOnly }, undefined, {
        traits: [...before.traits, "CUSTOM_RACK_7"],
        resourceClass: null,
      }),
    );
    const drifted = await nodes.update(
      node.uuid,
      { version: registered.version },
      withHardwareDrift(node.composition as NonNullable<Node["composition"]>, {
        ...drift,
        hardware: { ...drift.hardware, summary: withGpus },
      }),
    );
    await ironic.setTraits(ironicNodeUuid, drifted.traits ?? []);

    const result = await syncHardwareForOperation(
      { ...operation, node_uuid: drifted.uuid },
      { nodes, ironic },
    );

    expect(result.ok, result.detail).toBe(true);
    const gpu = hardwareTraits({ ...HW, summary: withGpus }).traits;
    expect(gpu).toContain("CUSTOM_GPU");
    const held = await ironic.getTraits(ironicNodeUuid);
    expect(held).toEqual([...new Set([...gpu, "CUSTOM_RACK_7"])].sort());
    expect((await nodes.get(node.uuid))?.traits).toEqual(held);
    expect(result.detail).toContain("traits");
  });

  it("leaves an Ironic node in use alone and keeps the drift", async () => {
    const { ironic, nodes, node, operation, ironicNodeUuid } = await setUp("active");
    const result = await syncHardwareForOperation(operation, { nodes, ironic });
    expect(result.ok).toBe(false);
    expect(ironic.callsOf("updateNode")).toEqual([]);
    expect([...ironic.ports.values()].filter((port) => port.node_uuid === ironicNodeUuid)).toHaveLength(3);
    expect((await nodes.get(node.uuid))?.hardware_drift).not.toBeNull();
  });
});

describe("watchComposition", () => {
  const links = [BLOCK("Compute1")];
  const grown = [BLOCK("Compute1"), BLOCK("Drive1")];
  const bigger: Hardware = { ...HW, local_gb: 893 };

  async function setUp(read: { hardware: Hardware; composition: string[] }) {
    const nodes = new MemoryNodeRepository();
    const history = new MemoryHistory();
    const { sessions, counters } = memorySessions(() => ({
      index: "sys-1",
      resourceUri: "/redfish/v1/Systems/sys-1",
      ...read,
    }));
    const begun: string[] = [];
    const operations = {
      begin: async (node: Node, plan: { kind: string }) => {
        begun.push(`${node.uuid}:${plan.kind}`);
        return {} as never;
      },
    };
    const deps = {
      nodes,
      podManagers: { get: async () => MEMORY_PODM },
      sessions,
      history,
      operations,
      now: () => new Date("2026-02-01T00:00:00.000Z"),
    };
    const node = await nodes.create(
      newNode({
        managed_by: "ironic",
        ironic_node_uuid: "ironic-1",
        hardware: HW,
        podm_id: MEMORY_PODM.uuid,
      }),
    );
    return { nodes, history, counters, begun, deps, node };
  }
  const pass = { requestId: "req-1" };
  /** The same dependencies over sessions that read `read` as the system. */
  const setUpRead = <D extends object>(deps: D, read: { hardware: Hardware; composition: string[] }) => ({
    ...deps,
    sessions: memorySessions(() => ({ index: "sys-1", resourceUri: "/redfish/v1/Systems/sys-1", ...read }))
      .sessions,
  });

  it("keeps the links of a node first seen with unchanged hardware, then reads nothing while they match", async () => {
    const { nodes, history, counters, begun, deps, node } = await setUp({ hardware: HW, composition: links });
    expect(await watchComposition(node, links, { provision_state: "available" }, pass, deps)).toBe(
      "recorded",
    );
    expect(counters.reads).toBe(1);
    const kept = (await nodes.get(node.uuid)) as Node;
    expect(kept.composition).toEqual(compositionRecord(links));
    expect(await watchComposition(kept, links, { provision_state: "available" }, pass, deps)).toBe(
      "unchanged",
    );
    expect(counters.reads).toBe(1);
    expect((await nodes.get(node.uuid))?.version).toBe(kept.version);
    expect(history.events).toEqual([]);
    expect(begun).toEqual([]);
  });

  it("flags a node Ironic uses, then starts its hardware_sync on the pass that finds it at rest", async () => {
    const { nodes, history, counters, begun, deps, node } = await setUp({
      hardware: bigger,
      composition: grown,
    });
    const known = await nodes.update(
      node.uuid,
      { version: node.version },
      withComposition(compositionRecord(links)),
    );
    expect(await watchComposition(known, grown, { provision_state: "active" }, pass, deps)).toBe("flagged");
    const flagged = (await nodes.get(node.uuid)) as Node;
    expect(flagged.hardware).toEqual(HW);
    expect(flagged.hardware_drift).toMatchObject({
      since: "2026-02-01T00:00:00.000Z",
      changes: {
        blocks_added: [BLOCK("Drive1")],
        properties: [{ name: "local_gb", before: "0", after: "893" }],
      },
      hardware: bigger,
    });
    expect(history.events.map((event) => event.action)).toEqual(["hardware_drift"]);
    expect(begun).toEqual([]);

    // Still active: nothing read, nothing started.
    expect(await watchComposition(flagged, grown, { provision_state: "active" }, pass, deps)).toBe(
      "unchanged",
    );
    expect(counters.reads).toBe(1);
    // At rest: the re-sync starts, without reading the system again.
    expect(await watchComposition(flagged, grown, { provision_state: "available" }, pass, deps)).toBe(
      "syncing",
    );
    expect(begun).toEqual([`${node.uuid}:hardware_sync`]);
    expect(counters.reads).toBe(1);
  });

  it("makes two changes under a node in use one drift, and clears it when the composition is back as synced", async () => {
    const { nodes, history, deps, node } = await setUp({ hardware: bigger, composition: grown });
    const nodesRead = () => nodes.get(node.uuid) as Promise<Node>;
    const known = await nodes.update(
      node.uuid,
      { version: node.version },
      withComposition(compositionRecord(links)),
    );
    await watchComposition(known, grown, { provision_state: "active" }, pass, deps);
    const first = await nodesRead();

    const twice = [...grown, BLOCK("Drive2")];
    const second = setUpRead(deps, { hardware: { ...bigger, local_gb: 447 }, composition: twice });
    expect(await watchComposition(first, twice, { provision_state: "active" }, pass, second)).toBe("flagged");
    const merged = (await nodesRead()).hardware_drift;
    expect(merged?.since).toBe(first.hardware_drift?.since);
    expect(merged?.changes.blocks_added).toEqual([BLOCK("Drive1"), BLOCK("Drive2")]);
    expect(merged?.changes.properties).toEqual([{ name: "local_gb", before: "0", after: "447" }]);

    const back = setUpRead(deps, { hardware: HW, composition: links });
    expect(await watchComposition(await nodesRead(), links, { provision_state: "active" }, pass, back)).toBe(
      "recorded",
    );
    const cleared = await nodesRead();
    expect(cleared.hardware_drift).toBeNull();
    expect(cleared.composition).toEqual(compositionRecord(links));
    expect(history.events.map((event) => event.action)).toEqual(["hardware_drift", "hardware_drift"]);
  });

  it("starts the hardware_sync at once for a node at rest", async () => {
    const { nodes, begun, deps, node } = await setUp({ hardware: bigger, composition: grown });
    const known = await nodes.update(
      node.uuid,
      { version: node.version },
      withComposition(compositionRecord(links)),
    );
    expect(await watchComposition(known, grown, { provision_state: "manageable" }, pass, deps)).toBe(
      "syncing",
    );
    expect(begun).toEqual([`${node.uuid}:hardware_sync`]);
  });
});
