import { PodManagerLoginFailedError, PodManagerNotFoundError } from "../errors.ts";
import {
  PodManagerAddressRefusedError,
  PodManagerAuthError,
  type PodManagerClient,
  type PodManagerConnection,
  PodManagerOriginRefusedError,
  PodManagerResponseError,
  PodManagerResponseTooLargeError,
  PodManagerUnreachableError,
} from "../redfish/index.ts";
import type { Credentials, SecretStore } from "../secrets/store.ts";
import type { PodManager, PodManagerStatus } from "./model.ts";
import type { PodManagerRepository } from "./repository.ts";

export type PodManagerClientFactory = (connection: PodManagerConnection) => PodManagerClient;

export function connectionOf(
  podm: PodManager,
  credentials: Credentials,
  requestId?: string,
  options: { preferBasic?: boolean } = {},
): PodManagerConnection {
  return {
    ...(options.preferBasic ? { preferBasic: true } : {}),
    url: podm.url,
    username: credentials.username,
    password: credentials.password,
    driver: podm.driver,
    verifyCa: podm.verify_ca,
    ...(requestId ? { headers: { "X-Request-Id": requestId } } : {}),
  };
}

/**
 * Opens a pod-manager client with the pod manager's credentials, runs `work`, and always closes the client (its
 * Redfish session).
 */
export class PodManagerSessions {
  constructor(
    private readonly podManagers: PodManagerRepository,
    private readonly secrets: SecretStore,
    private readonly createClient: PodManagerClientFactory,
  ) {}

  async get(podmId: string): Promise<PodManager> {
    const podm = await this.podManagers.get(podmId);
    if (!podm) throw new PodManagerNotFoundError(podmId);
    return podm;
  }

  async with<T>(
    podm: PodManager,
    requestId: string | undefined,
    work: (client: PodManagerClient, credentials: Credentials) => Promise<T>,
  ): Promise<T> {
    const { result, closed } = await this.withLateClose(podm, requestId, work);
    await closed;
    return result;
  }

  /**
   * Like `with`, but answers as soon as `work` is done and leaves the session's logout running: a caller with
   * more to do (Ironic calls) need not wait a pod-manager round trip for it. The caller awaits `closed` before it
   * answers, so no logout is left behind when a Lambda is frozen. `oneShot`: the work is a read that ends with it
   * (a register's), so Basic credentials go with the first request, with no session to open and close, where the
   * pod manager takes them.
   */
  async withLateClose<T>(
    podm: PodManager,
    requestId: string | undefined,
    work: (client: PodManagerClient, credentials: Credentials) => Promise<T>,
    options: { oneShot?: boolean } = {},
  ): Promise<{ result: T; closed: Promise<void> }> {
    const credentials = await this.secrets.get(podm.credentials_ref);
    const client = this.createClient(
      connectionOf(podm, credentials, requestId, { preferBasic: options.oneShot === true }),
    );
    let result: T;
    try {
      result = await work(client, credentials);
    } catch (error) {
      await client.close();
      throw error;
    }
    return { result, closed: client.close() };
  }

  /**
   * For the pod-manager service: `online` when the service root and the credentials work. A refusal of the
   * address policy or of an off-origin link is no answer of the pod manager's: it is thrown, not `offline`.
   */
  probe = async (podm: PodManager, credentials: Credentials): Promise<PodManagerStatus> => {
    const client = this.createClient(connectionOf(podm, credentials));
    try {
      await client.probe();
      return "online";
    } catch (error) {
      if (error instanceof PodManagerAddressRefusedError || error instanceof PodManagerOriginRefusedError) {
        throw error;
      }
      return "offline";
    } finally {
      await client.close();
    }
  };

  /**
   * Logs in with `credentials` at `podm`'s address (a Redfish session, Basic where sessions are refused) and reads
   * the composed systems with it: what a PATCH checks before it writes new credentials or a new address. The pod
   * manager's refusal or silence is a `PodManagerLoginFailedError` naming its answer; an address the deployment
   * refuses stays what it is.
   */
  login = async (podm: PodManager, credentials: Credentials): Promise<void> => {
    const client = this.createClient(connectionOf(podm, credentials));
    try {
      await client.probe();
    } catch (error) {
      if (
        error instanceof PodManagerAuthError ||
        error instanceof PodManagerUnreachableError ||
        error instanceof PodManagerResponseError ||
        error instanceof PodManagerResponseTooLargeError
      ) {
        throw new PodManagerLoginFailedError(error.message, { cause: error });
      }
      throw error;
    } finally {
      await client.close();
    }
  };
}
