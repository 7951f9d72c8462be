import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IronicState, Node } from "../../lib/nodes/model.ts";
import {
  changedIronicState,
  type Transition,
  toFound,
  toMissing,
  toRegistered,
  toUnregistered,
  withIntent,
  withIronicState,
  withoutIntent,
} from "../../lib/nodes/transitions.ts";
import { newNode } from "../support/fixtures.ts";

const AT = new Date("2026-01-02T03:04:05.000Z");
const STATE: IronicState = {
  provision_state: "manageable",
  power_state: "power off",
  maintenance: false,
  last_error: null,
  synced_at: "2026-01-01T00:00:00.000Z",
};

/** A stored node, as the repository returns it. */
function stored(overrides: Partial<Node> = {}): Node {
  return {
    ...newNode(),
    intent: null,
    registered_at: null,
    status: "ok",
    ironic_state: null,
    created_at: "2026-01-01T00:00:00.000Z",
    updated_at: "2026-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  };
}

/** What the repository writes: every defined field of the transition (and `version`, which it alone bumps). */
function apply(node: Node, transition: Transition): Node {
  const written = Object.fromEntries(Object.entries(transition).filter(([, value]) => value !== undefined));
  return { ...node, ...written, version: node.version + 1 };
}

const registeredNode = () =>
  stored({
    managed_by: "ironic",
    ironic_node_uuid: "ironic-1",
    registered_at: "2026-01-01T00:00:00.000Z",
    ironic_state: STATE,
  });

describe("node transitions", () => {
  it("unregister leaves nothing of the registration behind, the cached Ironic state included", () => {
    const node = apply(registeredNode(), withIntent("unregistering", "r1", AT, "ironic-1"));

    const after = apply(node, toUnregistered());

    expect(after).toMatchObject({
      managed_by: "valence",
      ironic_node_uuid: null,
      registered_at: null,
      intent: null,
      ironic_state: null,
    });
  });

  it("register ends the intent, records the Ironic node and drops state cached from an earlier registration", () => {
    const node = apply(stored({ ironic_state: STATE }), withIntent("registering", "r1", AT));
    const hardware = { ...node.hardware, cpus: 2 };

    const after = apply(
      node,
      toRegistered({
        ironicNodeUuid: "ironic-2",
        at: AT,
        system: { hardware, resourceUri: "/redfish/v1/Systems/x" },
      }),
    );

    expect(after).toMatchObject({
      managed_by: "ironic",
      ironic_node_uuid: "ironic-2",
      registered_at: AT.toISOString(),
      intent: null,
      ironic_state: null,
      hardware,
      resource_uri: "/redfish/v1/Systems/x",
    });
  });

  it("an adopt by the reconciler caches the state it saw", () => {
    const after = apply(stored(), toRegistered({ ironicNodeUuid: "ironic-3", at: AT, ironicState: STATE }));
    expect(after.ironic_state).toEqual(STATE);
  });

  it("writes an intent with who, when and which Ironic node, and clears it", () => {
    const marked = apply(stored(), withIntent("deleting", "r9", AT));
    expect(marked.intent).toEqual({
      op: "deleting",
      request_id: "r9",
      started_at: AT.toISOString(),
      ironic_node_uuid: null,
    });
    expect(apply(marked, withoutIntent()).intent).toBeNull();
  });

  it("marks a node missing and found", () => {
    expect(apply(stored(), toMissing()).status).toBe("missing");
    expect(apply(stored({ status: "missing" }), toFound()).status).toBe("ok");
    expect(
      apply(registeredNode(), withIronicState({ ...STATE, maintenance: true })).ironic_state?.maintenance,
    ).toBe(true);
  });

  it("never carries version, updated_at or identity: the repository alone writes those", () => {
    const all = [
      withIntent("registering", "r", AT),
      withoutIntent(),
      toRegistered({ ironicNodeUuid: "i", at: AT }),
      toUnregistered(),
      toMissing(),
      toFound(),
      withIronicState(STATE),
    ];
    for (const transition of all) {
      for (const field of ["version", "updated_at", "created_at", "uuid", "name", "podm_id", "index"]) {
        expect(transition).not.toHaveProperty(field);
      }
    }
  });

  it("keeps managed_by, ironic_node_uuid, registered_at and ironic_state consistent over any sequence", () => {
    type Step = "register" | "unregister" | "intent" | "clear" | "missing" | "found" | "sync";
    const steps = fc.array(
      fc.constantFrom<Step>("register", "unregister", "intent", "clear", "missing", "found", "sync"),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(steps, (sequence) => {
        let node = stored();
        for (const step of sequence) {
          const transition: Transition | undefined = {
            register: toRegistered({ ironicNodeUuid: `ironic-${node.version}`, at: AT }),
            unregister: toUnregistered(),
            intent: withIntent("registering", "r", AT),
            clear: withoutIntent(),
            missing: toMissing(),
            found: toFound(),
            // The reconciler caches state only on registered nodes.
            sync: node.managed_by === "ironic" ? withIronicState(STATE) : undefined,
          }[step];
          if (transition) node = apply(node, transition);
          if (step === "register" || step === "unregister") expect(node.intent).toBeNull();
          if (node.managed_by === "valence") {
            expect(node.ironic_node_uuid).toBeNull();
            expect(node.registered_at).toBeNull();
            expect(node.ironic_state ?? null).toBeNull();
          } else {
            expect(node.ironic_node_uuid).not.toBeNull();
            expect(node.registered_at).not.toBeNull();
          }
        }
      }),
    );
  });
});

describe("changedIronicState", () => {
  const ironic = {
    provision_state: "available",
    power_state: "power on",
    maintenance: false,
    last_error: null,
  };

  it("answers undefined when Ironic says what is cached, so an unchanged node is not written", () => {
    expect(changedIronicState(ironic, { ...ironic, synced_at: "earlier" }, AT)).toBeUndefined();
  });

  it("answers the new state, stamped, when anything differs or nothing is cached", () => {
    expect(changedIronicState(ironic, null, AT)).toEqual({ ...ironic, synced_at: AT.toISOString() });
    expect(
      changedIronicState({ ...ironic, maintenance: true }, { ...ironic, synced_at: "earlier" }, AT),
    ).toEqual({
      ...ironic,
      maintenance: true,
      synced_at: AT.toISOString(),
    });
  });
});
