import { randomUUID } from "node:crypto";
import { PodManagerInUseError, PodManagerNotFoundError, ValidationError } from "../errors.ts";
import type { Operation } from "../operations/model.ts";
import type { OperationCaller } from "../operations/service.ts";
import type { Credentials, SecretStore } from "../secrets/store.ts";
import type { PodManager, PodManagerChanges, PodManagerStatus } from "./model.ts";
import { type Placement, placementChangesOf, placementOf } from "./placement.ts";
import type { PodManagerRepository } from "./repository.ts";
import type { CreatePodManagerInput, UpdatePodManagerInput } from "./schemas.ts";

/** Reaches the pod manager's service root; tells whether it answers. */
export type PodManagerProbe = (podm: PodManager, credentials: Credentials) => Promise<PodManagerStatus>;

/**
 * Logs in at the pod manager's address with the credentials (a Redfish session, as Valence's client opens them);
 * throws `PodManagerLoginFailedError` naming the pod manager's answer when they do not work.
 */
export type PodManagerLogin = (podm: PodManager, credentials: Credentials) => Promise<void>;

/** Starts the re-sync of a pod manager's nodes in Ironic: the operation, or undefined with no node to re-sync. */
export interface PodManagerResyncStarter {
  start(
    podm: PodManager,
    caller: OperationCaller,
    options?: { previousUrl?: string | undefined; previousVerifyCa?: boolean | undefined },
  ): Promise<Operation | undefined>;
}

/** What a PATCH did: the pod manager as stored, and the re-sync of its Ironic nodes when one was started. */
export interface PodManagerUpdate {
  podManager: PodManager;
  operation?: Operation | undefined;
}

export interface PodManagerServiceDeps {
  repository: PodManagerRepository;
  secrets: SecretStore;
  /** Counts the nodes composed on a pod manager; deleting one that still has nodes is refused. */
  countNodes: (podmId: string) => Promise<number>;
  probe?: PodManagerProbe;
  /** Checks new credentials or a new address before anything is written; absent: not checked (unit tests). */
  login?: PodManagerLogin;
  /** Carries new credentials or a new address into the pod manager's Ironic nodes; absent: not carried. */
  resync?: PodManagerResyncStarter;
  /** Refuses a URL the deployment's address policy does not allow (a `PodManagerUrlRefusedError`). */
  checkUrl?: (url: string) => void;
  /**
   * Refuses placement fields the Ironic in use cannot take (a field its API version lacks, an interface it has not
   * enabled, a conductor group no conductor serves); given the fields a create or PATCH sets.
   */
  checkPlacement?: (placement: Placement) => Promise<void>;
}

const secretName = (uuid: string) => `podm/${uuid}`;

/**
 * The fields of a PATCH that change where or how the credentials are sent: another host, another protocol, or
 * TLS checks turned off (which lets whoever answers in the pod manager's place read them).
 */
function changedTarget(current: PodManager, input: UpdatePodManagerInput): string[] {
  const changed: string[] = [];
  if (input.url !== undefined && input.url !== current.url) changed.push("url");
  if (input.driver !== undefined && input.driver !== current.driver) changed.push("driver");
  if (input.verify_ca === false && current.verify_ca) changed.push("verify_ca (turned off)");
  return changed;
}

export class PodManagerService {
  constructor(private readonly deps: PodManagerServiceDeps) {}

  async create(input: CreatePodManagerInput): Promise<PodManager> {
    this.deps.checkUrl?.(input.url);
    const placement = placementOf(input);
    if (Object.keys(placement).length > 0) await this.deps.checkPlacement?.(placement);
    const uuid = randomUUID();
    const auth = input.authentication[0]?.auth_items;
    if (!auth) throw new Error("authentication is validated to hold one entry");
    // The secret first: a record must never point at credentials that do not exist.
    const credentialsRef = await this.deps.secrets.put(secretName(uuid), auth);
    let podm: PodManager;
    try {
      podm = await this.deps.repository.create({
        uuid,
        name: input.name,
        url: input.url,
        driver: input.driver,
        verify_ca: input.verify_ca,
        status: "unknown",
        username: auth.username,
        credentials_ref: credentialsRef,
        ...placement,
      });
    } catch (error) {
      await this.deps.secrets.delete(credentialsRef);
      throw error;
    }
    try {
      return await this.refreshStatus(podm, auth);
    } catch (error) {
      // The probe only throws when the pod manager may not be reached at all (its name resolves to an address
      // the deployment refuses): such a pod manager can never be used, so it is not kept.
      await this.deps.repository.delete(uuid, podm.version);
      await this.deps.secrets.delete(credentialsRef);
      throw error;
    }
  }

  async get(uuid: string): Promise<PodManager> {
    const podm = await this.deps.repository.get(uuid);
    if (!podm) throw new PodManagerNotFoundError(uuid);
    return podm;
  }

  /** Like `get`, and asks the pod manager whether it is online. */
  async show(uuid: string): Promise<PodManager> {
    const podm = await this.get(uuid);
    if (!this.deps.probe) return podm;
    return this.refreshStatus(podm, await this.deps.secrets.get(podm.credentials_ref));
  }

  list(): Promise<PodManager[]> {
    return this.deps.repository.list();
  }

  /**
   * Changes the pod manager. New credentials, a new address, driver or TLS check are first tried with a real
   * login at the (new) address: refused, nothing is written. Once the secret and record are written, new
   * credentials, address or TLS check, and placement defaults set, are carried into every node of the pod manager
   * registered in Ironic by a `resync` operation (started for a `caller`; without one, as when the local stack seeds itself, none is).
   */
  async update(
    uuid: string,
    input: UpdatePodManagerInput,
    caller?: OperationCaller,
  ): Promise<PodManagerUpdate> {
    if (input.url !== undefined) this.deps.checkUrl?.(input.url);
    const current = await this.get(uuid);
    const auth = input.authentication?.[0]?.auth_items;
    // The stored credentials were given for the stored address and protocol. Sent anywhere else (a probe right
    // now, every pod-manager call later) they would hand the BMC password to whoever names the new host, so a
    // new url or driver comes with its credentials or not at all; refused before anything is sent or written.
    const moved = changedTarget(current, input);
    if (moved.length > 0 && !auth) {
      throw new ValidationError(
        `body.authentication: is required when ${moved.join(" or ")} changes; the stored credentials are only ever sent to the pod manager they were given for`,
      );
    }
    // Only the fields this PATCH sets are checked: clearing one (`null`) needs nothing of Ironic.
    const placementChanges = placementChangesOf(input);
    const placementSet = placementOf(placementChanges);
    if (Object.keys(placementSet).length > 0) await this.deps.checkPlacement?.(placementSet);
    const changes: PodManagerChanges = {
      ...placementChanges,
      name: input.name,
      url: input.url,
      driver: input.driver,
      verify_ca: input.verify_ca,
      username: auth?.username,
    };
    const target: PodManager = {
      ...current,
      url: input.url ?? current.url,
      driver: input.driver ?? current.driver,
      verify_ca: input.verify_ca ?? current.verify_ca,
    };
    // Where and how Ironic reaches the pod manager's nodes: what the re-sync carries into their driver_info.
    const reachChanged =
      auth !== undefined || target.url !== current.url || target.verify_ca !== current.verify_ca;
    const connectionChanged = reachChanged || target.driver !== current.driver;
    // Tried before anything is written: credentials or an address the pod manager does not take change nothing.
    if (connectionChanged && this.deps.login) {
      await this.deps.login(target, auth ?? (await this.deps.secrets.get(current.credentials_ref)));
      changes.status = "online";
    }
    // Credentials change in place: the reference stays the same, so a failed record update leaves a usable pair.
    // It differs only when the secret had to be created anew (a deployment that moved its secret prefix): then
    // the record follows it.
    const credentialsRef = auth ? await this.deps.secrets.put(secretName(uuid), auth) : undefined;
    if (credentialsRef !== undefined && credentialsRef !== current.credentials_ref) {
      changes.credentials_ref = credentialsRef;
    }
    const updated = await this.deps.repository.update(uuid, current.version, changes);
    // A placement default set (not cleared) is re-applied to the nodes, as a register would apply it now.
    const placementChanged = Object.keys(placementSet).length > 0;
    if ((reachChanged || placementChanged) && caller && this.deps.resync) {
      const operation = await this.deps.resync.start(updated, caller, {
        previousUrl: current.url,
        previousVerifyCa: current.verify_ca,
      });
      return { podManager: updated, operation };
    }
    if (changes.status !== undefined || !this.deps.probe) return { podManager: updated };
    return {
      podManager: await this.refreshStatus(
        updated,
        auth ?? (await this.deps.secrets.get(updated.credentials_ref)),
      ),
    };
  }

  /**
   * Re-syncs the pod manager's current address and credentials into every node of it registered in Ironic, as an
   * operation with a result per node: for whoever changed the credentials elsewhere (a secret rotation's last
   * step). Undefined when it has no node in Ironic.
   */
  async resync(uuid: string, caller: OperationCaller): Promise<Operation | undefined> {
    const podm = await this.get(uuid);
    if (!this.deps.resync) throw new Error("this pod-manager service was built without a re-sync");
    return this.deps.resync.start(podm, caller);
  }

  async delete(uuid: string): Promise<void> {
    const podm = await this.get(uuid);
    const nodes = await this.deps.countNodes(uuid);
    if (nodes > 0) throw new PodManagerInUseError(uuid, nodes);
    await this.deps.repository.delete(uuid, podm.version);
    await this.deps.secrets.delete(podm.credentials_ref);
  }

  private async refreshStatus(podm: PodManager, credentials: Credentials): Promise<PodManager> {
    if (!this.deps.probe) return podm;
    const status = await this.deps.probe(podm, credentials);
    if (status === podm.status) return podm;
    try {
      return await this.deps.repository.update(podm.uuid, podm.version, { status });
    } catch {
      // Someone else updated it meanwhile; the status is advisory, show what we saw.
      return { ...podm, status };
    }
  }
}
