import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { SERVICE_ROOT } from "./common.ts";
import { PodManagerResponseError } from "./errors.ts";
import { CollectionSchema, LinkSchema, parseResource } from "./schemas.ts";
import { isSuccess, RedfishTransport } from "./transport.ts";
import type { PodManagerConnection } from "./types.ts";

/**
 * The pod manager's own user accounts (Redfish `AccountService`), for rotating the password Valence logs in with.
 * DMTF DSP0266 "AccountService": the service root links it, its `Accounts` collection holds `ManagerAccount`s
 * named by `UserName`, and a PATCH of an account's `Password` changes it (the password always reads as null).
 */

const CONVENTIONAL_ACCOUNT_SERVICE = "/redfish/v1/AccountService";
/** Far above any real BMC's user list; a collection that keeps paging is not followed without end. */
const MAX_COLLECTION_PAGES = 20;

const RootSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ AccountService: z.optional(z.nullable(LinkSchema)) }),
);
const AccountServiceSchema = /* @__PURE__ */ lazySchema(() => z.object({ Accounts: LinkSchema }));
const AccountPageSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({
    ...CollectionSchema.shape,
    "Members@odata.nextLink": z.optional(z.nullable(z.string())),
  }),
);
const AccountSchema = /* @__PURE__ */ lazySchema(() =>
  z.object({ UserName: z.optional(z.nullable(z.string())) }),
);

export type AccountConnection = Omit<PodManagerConnection, "driver">;

/** Unit tests: answers in place of the network, as `createPodManagerClient` takes them. */
export interface AccountDeps {
  fetch?: typeof fetch;
}

async function withTransport<T>(
  connection: AccountConnection,
  deps: AccountDeps,
  work: (transport: RedfishTransport) => Promise<T>,
): Promise<T> {
  const transport = new RedfishTransport({ ...connection, fetch: deps.fetch });
  try {
    return await work(transport);
  } finally {
    await transport.close();
  }
}

async function read<S extends z.ZodMiniType>(transport: RedfishTransport, schema: S, path: string) {
  return parseResource(schema, await transport.get(path), `GET ${path}`, transport.podManager);
}

async function accountServicePath(transport: RedfishTransport): Promise<string> {
  const response = await transport.request("GET", SERVICE_ROOT, { auth: false });
  if (!isSuccess(response.status)) throw transport.statusError(response);
  const root = parseResource(RootSchema, response.body, `GET ${SERVICE_ROOT}`, transport.podManager);
  return root.AccountService
    ? transport.toPath(root.AccountService["@odata.id"])
    : CONVENTIONAL_ACCOUNT_SERVICE;
}

/**
 * Logs in with the connection's credentials (a session, or Basic where sessions are refused) and reads the
 * AccountService: resolves when both work, throws `PodManagerAuthError` when the pod manager refuses them.
 */
export async function checkAccountLogin(
  connection: AccountConnection,
  deps: AccountDeps = {},
): Promise<void> {
  await withTransport(connection, deps, async (transport) => {
    await read(transport, AccountServiceSchema, await accountServicePath(transport));
  });
}

/**
 * Logs in with the connection's credentials and sets a new password on the account whose `UserName` is the
 * connection's user. Sends the account's ETag as `If-Match` where it has one (services may require it).
 */
export async function changeAccountPassword(
  connection: AccountConnection,
  newPassword: string,
  deps: AccountDeps = {},
): Promise<void> {
  await withTransport(connection, deps, async (transport) => {
    const service = await read(transport, AccountServiceSchema, await accountServicePath(transport));
    const accountPath = await findAccount(
      transport,
      transport.toPath(service.Accounts["@odata.id"]),
      connection,
    );
    const current = await transport.request("GET", accountPath);
    if (!isSuccess(current.status)) throw transport.statusError(current);
    const etag = current.headers.get("etag");
    const response = await transport.request("PATCH", accountPath, {
      body: { Password: newPassword },
      ...(etag ? { headers: { "If-Match": etag } } : {}),
    });
    if (isSuccess(response.status)) return;
    // The transport scrubs the password it logs in with, not this one: a service may quote what it refused.
    const message = transport.upstreamMessage(response.body)?.split(newPassword).join("***");
    throw new PodManagerResponseError(
      transport.podManager,
      `PATCH ${accountPath} (Password) answered ${response.status}${message ? `: ${message}` : ""}`,
    );
  });
}

async function findAccount(
  transport: RedfishTransport,
  accountsPath: string,
  connection: AccountConnection,
): Promise<string> {
  let page: string | undefined = accountsPath;
  for (let pages = 0; page && pages < MAX_COLLECTION_PAGES; pages += 1) {
    const collection: z.infer<typeof AccountPageSchema> = await read(transport, AccountPageSchema, page);
    for (const member of collection.Members) {
      const path = transport.toPath(member["@odata.id"]);
      const account = await read(transport, AccountSchema, path);
      if (account.UserName === connection.username) return path;
    }
    const next: string | null | undefined = collection["Members@odata.nextLink"];
    // A next link pages with its query (`?$skip=2`), which `toPath` alone would drop.
    page = next
      ? `${transport.toPath(next)}${new URL(next, "http://pod-manager.invalid").search}`
      : undefined;
  }
  throw new PodManagerResponseError(
    transport.podManager,
    `no account with UserName ${connection.username} in ${accountsPath}`,
  );
}
