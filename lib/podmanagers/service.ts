import { randomUUID } from "node:crypto";
import { PodManagerInUseError, PodManagerNotFoundError, ValidationError } from "../errors.ts";
import type { Credentials, SecretStore } from "../secrets/store.ts";
import type { PodManager, PodManagerChanges, PodManagerStatus } from "./model.ts";
import { type Placement, placementChangesOf, placementOf } from "./placement.ts";
import type { PodManagerRepository } from "./repository.ts";
import type { CreatePodManagerInput, UpdatePodManagerInput } from "./schemas.ts";

/** Reaches the pod manager's service root; tells whether it answers. */
export type PodManagerProbe = (podm: PodManager, credentials: Credentials) => Promise<PodManagerStatus>;

export interface PodManagerServiceDeps {
  repository: PodManagerRepository;
  secrets: SecretStore;
  /** Counts the nodes composed on a pod manager; deleting one that still has nodes is refused. */
  countNodes: (podmId: string) => Promise<number>;
  probe?: PodManagerProbe;
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

  async update(uuid: string, input: UpdatePodManagerInput): Promise<PodManager> {
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
    // Credentials change in place: the reference stays the same, so a failed record update leaves a usable pair.
    // It differs only when the secret had to be created anew (a deployment that moved its secret prefix): then
    // the record follows it.
    const credentialsRef = auth ? await this.deps.secrets.put(secretName(uuid), auth) : undefined;
    if (credentialsRef !== undefined && credentialsRef !== current.credentials_ref) {
      changes.credentials_ref = credentialsRef;
    }
    const updated = await this.deps.repository.update(uuid, current.version, changes);
    if (!this.deps.probe) return updated;
    return this.refreshStatus(updated, auth ?? (await this.deps.secrets.get(updated.credentials_ref)));
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
