import { describe, expect, it } from "vitest";
import { readCliConfig } from "../../cli/config.ts";
import { main } from "../../cli/main.ts";
import { memoryIo } from "../../cli/memory-io.ts";

interface Recorded {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const PODM = { uuid: "6f1a9c2e-4b7d-4e8a-9c3f-2d5e7a1b8c40", name: "podm1" };
const NODE = {
  uuid: "0b7c1e8a-2f3d-4c5e-8a9b-1c2d3e4f5a6b",
  name: "n1",
  managed_by: "ironic",
  ironic_node_uuid: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
  hardware: { cpus: 8, nics: [{ mac: "52:54:00:00:00:01", enabled: true }] },
};

function errorBody(status: number, code: string, title: string, detail: string): Answer {
  return { status, body: { request_id: "req-1", code, status, title, detail } };
}

/** A stand-in for the API: records every request, answers with `respond` (404 RouteNotFound when it says nothing). */
function fakeApi(respond: (request: Recorded) => Answer | undefined) {
  const requests: Recorded[] = [];
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const request: Recorded = {
      method: init?.method ?? "GET",
      url,
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    requests.push(request);
    const answer =
      respond(request) ??
      errorBody(404, "RouteNotFound", "Not Found", `no route ${request.method} ${url.pathname}`);
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { "content-type": "application/json", ...answer.headers },
    });
  }) as typeof fetch;
  return { fetch: fakeFetch, requests };
}

const podManagers = (request: Recorded): Answer | undefined =>
  request.method === "GET" && request.url.pathname === "/v1/pod_managers"
    ? { status: 200, body: [PODM] }
    : undefined;

async function valence(
  argv: string[],
  options: {
    respond?: (request: Recorded) => Answer | undefined;
    env?: Record<string, string>;
    tty?: boolean;
    answers?: string[];
  } = {},
) {
  const api = fakeApi(options.respond ?? (() => ({ status: 200, body: NODE })));
  const io = memoryIo({ tty: options.tty ?? false, answers: options.answers ?? [] });
  const code = await main(argv, {
    config: readCliConfig(options.env ?? {}),
    io,
    fetch: api.fetch,
    credentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }),
  });
  return { code, out: io.out(), err: io.err(), requests: api.requests };
}

describe("valence: what each command sends", () => {
  it("node-register sends exactly the register fields given as flags, to the local stack by default", async () => {
    const { code, requests } = await valence([
      "node-register",
      "n1",
      "--manage",
      "--provide",
      "--resource-class",
      "gold",
      "--wait-timeout",
      "600",
      "--boot-mac",
      "52:54:00:00:00:01",
      "--ports",
      "boot",
    ]);

    expect(code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.url.href).toBe("http://127.0.0.1:8181/v1/nodes/n1/register");
    expect(requests[0]?.body).toEqual({
      resource_class: "gold",
      ports: "boot",
      boot_mac: "52:54:00:00:00:01",
      manage: true,
      provide: true,
      wait_timeout: 600,
    });
  });

  it("node-register without flags leaves every default to the API", async () => {
    const { requests } = await valence(["node-register", "n1"]);

    expect(requests[0]?.body).toEqual({});
  });

  it("node-register --dry-run asks for the plan with the traits to add and remove, and prints it", async () => {
    const plan = { dry_run: true, action: "create", ironic_node: { uuid: null, traits: ["CUSTOM_GPU"] } };
    const { code, out, requests } = await valence(
      [
        "node-register",
        "n1",
        "--dry-run",
        "--add-trait",
        "CUSTOM_A",
        "--add-trait",
        "CUSTOM_B",
        "--remove-trait",
        "CUSTOM_C",
        "-f",
        "json",
      ],
      { respond: () => ({ status: 200, body: plan }) },
    );

    expect(code).toBe(0);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url.href).toBe("http://127.0.0.1:8181/v1/nodes/n1/register?dry_run=true");
    expect(requests[0]?.body).toEqual({ traits: { add: ["CUSTOM_A", "CUSTOM_B"], remove: ["CUSTOM_C"] } });
    expect(JSON.parse(out)).toEqual(plan);
  });

  it("node-register --dry-run plans one node, never a bulk", async () => {
    const { code, requests } = await valence(["node-register", "--all", "--podm", "p", "--dry-run"]);
    expect(code).not.toBe(0);
    expect(requests).toEqual([]);
  });

  it("node-unregister sends force only with --force, and escapes the node in the path", async () => {
    const plain = await valence(["node-unregister", "n 1"]);
    const forced = await valence(["node-unregister", "n1", "--force"]);

    expect(plain.requests[0]?.url.pathname).toBe("/v1/nodes/n%201/unregister");
    expect(plain.requests[0]?.body).toEqual({ force: false });
    expect(forced.requests[0]?.body).toEqual({ force: true });
  });

  it("node-show --refresh asks the API to read Ironic, and prints a Field | Value table", async () => {
    const { code, out, requests } = await valence(["node-show", "n1", "--refresh"]);

    expect(code).toBe(0);
    expect(requests[0]?.url.search).toBe("?refresh=true");
    expect(out).toMatch(/│ Field\s+│ Value/);
    expect(out).toMatch(/│ managed_by\s+│ ironic\s+│/);
    expect(out).toMatch(/│ hardware\.cpus\s+│ 8\s+│/);
    expect(out).toMatch(/│ hardware\.nics\s+│ mac=52:54:00:00:00:01, enabled=true/);
  });

  it("node-list turns filters into the query, a pod manager name into its uuid, and follows every page", async () => {
    const second = { ...NODE, uuid: "1b7c1e8a-2f3d-4c5e-8a9b-1c2d3e4f5a6b", name: "n2" };
    const { code, out, requests } = await valence(
      ["node-list", "--managed-by", "ironic", "--podm", "podm1", "--name", "n1", "-f", "json"],
      {
        respond: (request) => {
          if (request.url.pathname === "/v1/pod_managers") return podManagers(request);
          if (request.url.searchParams.get("marker") === NODE.uuid) return { status: 200, body: [second] };
          return {
            status: 200,
            body: [NODE],
            headers: {
              link: `<http://proxy.internal:9/v1/nodes?managed_by=ironic&marker=${NODE.uuid}>; rel="next"`,
            },
          };
        },
      },
    );

    expect(code).toBe(0);
    const listed = requests.filter((request) => request.url.pathname === "/v1/nodes");
    expect(Object.fromEntries(listed[0]?.url.searchParams ?? [])).toEqual({
      managed_by: "ironic",
      podm_id: PODM.uuid,
      name: "n1",
    });
    // The next page on the CLI's own origin, whatever host the API put in the link.
    expect(listed[1]?.url.origin).toBe("http://127.0.0.1:8181");
    expect(JSON.parse(out).map((node: { name: string }) => node.name)).toEqual(["n1", "n2"]);
  });

  it("node-list --limit asks for one page of that size and says when more remain", async () => {
    const { out, err, requests } = await valence(["node-list", "--limit", "1"], {
      respond: () => ({
        status: 200,
        body: [NODE],
        headers: { link: `</v1/nodes?limit=1&marker=${NODE.uuid}>; rel="next"` },
      }),
    });

    expect(requests).toHaveLength(1);
    expect(requests[0]?.url.searchParams.get("limit")).toBe("1");
    expect(out).toMatch(/│ UUID\s+│ Name\s+│ Managed By/);
    expect(out).toContain(NODE.uuid);
    expect(err).toContain("more nodes remain");
  });

  it("node-compose builds the compose body from its flags", async () => {
    const { code, requests } = await valence(
      [
        "node-compose",
        "--name",
        "n9",
        "--podm",
        "podm1",
        "--memory-mib",
        "32768",
        "--cores",
        "8",
        "--processor-model",
        "Xeon",
        "--resource-block",
        "/redfish/v1/CompositionService/ResourceBlocks/1",
        "--resource-block",
        "/redfish/v1/CompositionService/ResourceBlocks/2",
      ],
      { respond: (request) => podManagers(request) ?? { status: 201, body: NODE } },
    );

    expect(code).toBe(0);
    expect(requests.at(-1)?.body).toEqual({
      name: "n9",
      podm_id: PODM.uuid,
      properties: { memory: { capacity_mib: 32768 }, processor: { total_cores: 8, model: "Xeon" } },
      resource_blocks: [
        "/redfish/v1/CompositionService/ResourceBlocks/1",
        "/redfish/v1/CompositionService/ResourceBlocks/2",
      ],
    });
  });

  it("node-manage sends the pod manager, the system's index and the name", async () => {
    const { requests } = await valence(["node-manage", PODM.uuid, "composed-3", "--name", "n3"], {
      respond: () => ({ status: 201, body: NODE }),
    });

    expect(requests[0]?.url.pathname).toBe("/v1/nodes/manage");
    expect(requests[0]?.body).toEqual({ podm_id: PODM.uuid, node_index: "composed-3", name: "n3" });
  });

  it("node-action builds Valence's Reset and Boot bodies, case-insensitively", async () => {
    const reset = await valence(["node-action", "n1", "reset", "forcerestart"], {
      respond: () => ({ status: 204 }),
    });
    const boot = await valence(["node-action", "n1", "boot", "hdd", "--continuous"], {
      respond: () => ({ status: 204 }),
    });
    const once = await valence(["node-action", "n1", "boot", "Pxe"], { respond: () => ({ status: 204 }) });

    expect(reset.requests[0]?.body).toEqual({ Reset: { Type: "ForceRestart" } });
    expect(reset.out).toBe("Reset sent to node n1.\n");
    expect(boot.requests[0]?.body).toEqual({ Boot: { Enabled: "Continuous", Target: "Hdd" } });
    expect(once.requests[0]?.body).toEqual({ Boot: { Enabled: "Once", Target: "Pxe" } });
  });

  it("node-delete answers in words, and prints nothing in JSON mode (the API answers no body)", async () => {
    const table = await valence(["node-delete", "n1"], { respond: () => ({ status: 204 }) });
    const json = await valence(["node-delete", "n1", "-f", "json"], { respond: () => ({ status: 204 }) });

    expect(table.requests[0]?.method).toBe("DELETE");
    expect(table.out).toBe("Node n1 deleted.\n");
    expect(json.out).toBe("");
    expect(json.code).toBe(0);
  });

  it("node-history lists events, and says so clearly when the server has no history route", async () => {
    const event = {
      id: "x",
      at: "2025-01-01T00:00:00Z",
      action: "register",
      outcome: "succeeded",
      actor: "me",
    };
    const listed = await valence(["node-history", "n1"], { respond: () => ({ status: 200, body: [event] }) });
    const missingRoute = await valence(["node-history", "n1"], { respond: () => undefined });
    const missingNode = await valence(["node-history", "n9"], {
      respond: () => errorBody(404, "NodeNotFound", "Not Found", "node n9 not found"),
    });

    expect(listed.requests[0]?.url.pathname).toBe("/v1/nodes/n1/history");
    expect(listed.out).toMatch(/│ 2025-01-01T00:00:00Z │ register\s+│ succeeded/);
    expect(missingRoute.code).toBe(3);
    expect(missingRoute.err).toContain("this Valence API has no GET /v1/nodes/{id}/history route");
    expect(missingNode.code).toBe(3);
    expect(missingNode.err).toBe("Not Found: node n9 not found\n");
  });

  it("takes the connection options before or after the command", async () => {
    const before = await valence(["--url", "http://valence.example:9000", "-f", "json", "node-show", "n1"]);
    const after = await valence([
      "node-show",
      "n1",
      "--url",
      "http://valence.example:9000",
      "--format",
      "json",
    ]);
    const fromEnv = await valence(["node-show", "n1"], {
      env: { VALENCE_URL: "http://env.example:1234/base/" },
    });

    for (const run of [before, after]) {
      expect(run.requests[0]?.url.href).toBe("http://valence.example:9000/v1/nodes/n1");
      expect(JSON.parse(run.out)).toEqual(NODE);
    }
    expect(fromEnv.requests[0]?.url.href).toBe("http://env.example:1234/base/v1/nodes/n1");
  });
});

describe("valence: pod managers and their password", () => {
  const created = (request: Recorded): Answer => ({
    status: request.method === "POST" ? 201 : 200,
    body: {
      ...PODM,
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "***" } }],
    },
  });

  it("podmanager-create sends the pod manager, its --url being the pod manager's own", async () => {
    const { code, requests, out, err } = await valence(
      [
        "podmanager-create",
        "--name",
        "podm1",
        "--url",
        "https://192.0.2.10:8443",
        "--driver",
        "rsd",
        "--username",
        "admin",
        "--password",
        "s3cret-flag",
        "--no-verify-ca",
      ],
      { respond: created, env: { VALENCE_URL: "http://valence.example:8181" } },
    );

    expect(code).toBe(0);
    expect(requests[0]?.url.href).toBe("http://valence.example:8181/v1/pod_managers");
    expect(requests[0]?.body).toEqual({
      name: "podm1",
      url: "https://192.0.2.10:8443",
      driver: "rsd",
      verify_ca: false,
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "s3cret-flag" } }],
    });
    expect(`${out}${err}`).not.toContain("s3cret-flag");
    expect(out).toContain("***");
  });

  it("takes the password from VALENCE_PODM_PASSWORD, else asks on a terminal, else refuses (exit 2)", async () => {
    const args = ["podmanager-create", "--name", "p", "--url", "https://192.0.2.10", "--username", "admin"];
    const fromEnv = await valence(args, { respond: created, env: { VALENCE_PODM_PASSWORD: "from-env" } });
    const prompted = await valence(args, { respond: created, tty: true, answers: ["typed-secret"] });
    const refused = await valence(args, { respond: created });

    type Sent = { verify_ca: boolean; authentication: { auth_items: { password: string } }[] };
    const sent = (run: typeof fromEnv) => run.requests[0]?.body as Sent | undefined;
    const passwordOf = (run: typeof fromEnv) => sent(run)?.authentication[0]?.auth_items.password;
    expect(passwordOf(fromEnv)).toBe("from-env");
    expect(sent(fromEnv)?.verify_ca).toBe(true);
    expect(passwordOf(prompted)).toBe("typed-secret");
    expect(prompted.err).toContain("Pod manager password: ");
    expect(`${prompted.out}${prompted.err}`).not.toContain("typed-secret");
    expect(refused.code).toBe(2);
    expect(refused.requests).toEqual([]);
    expect(refused.err).toContain("VALENCE_PODM_PASSWORD");
  });

  it("podmanager-update --password keeps the username, by name; nothing to change is a usage error", async () => {
    const { code, requests } = await valence(
      ["podmanager-update", "podm1", "--password", "new-one", "--verify-ca"],
      {
        respond: (request) => podManagers(request) ?? created(request),
      },
    );
    const nothing = await valence(["podmanager-update", PODM.uuid], { respond: created });

    expect(code).toBe(0);
    const patch = requests.find((request) => request.method === "PATCH");
    expect(patch?.url.pathname).toBe(`/v1/pod_managers/${PODM.uuid}`);
    expect(patch?.body).toEqual({
      verify_ca: true,
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "new-one" } }],
    });
    expect(nothing.code).toBe(2);
    expect(nothing.requests).toEqual([]);
  });

  it("warns on stderr when the password is given on the command line, and not when it comes from the environment", async () => {
    const args = ["podmanager-create", "--name", "p", "--url", "https://192.0.2.10", "--username", "admin"];
    const inArgv = await valence([...args, "--password", "argv-secret"], { respond: created });
    const fromEnv = await valence([...args, "--password"], {
      respond: created,
      env: { VALENCE_PODM_PASSWORD: "env-secret" },
    });

    expect(inArgv.code).toBe(0);
    expect(inArgv.err).toContain("podmanager-create: warning:");
    expect(inArgv.err).toContain("shell history");
    expect(inArgv.err).toContain("VALENCE_PODM_PASSWORD");
    expect(`${inArgv.out}${inArgv.err}`).not.toContain("argv-secret");
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.err).toBe("");
    expect(fromEnv.requests[0]?.body).toMatchObject({
      authentication: [{ auth_items: { password: "env-secret" } }],
    });
  });

  it("podmanager-create and podmanager-update send the Ironic placement flags; --unset clears one", async () => {
    const respond = (request: Recorded) => podManagers(request) ?? created(request);
    const made = await valence(
      [
        "podmanager-create",
        "--name",
        "p",
        "--url",
        "https://192.0.2.10",
        "--username",
        "admin",
        "--conductor-group",
        "rack-7",
        "--boot-interface",
        "redfish-virtual-media",
        "--no-automated-clean",
      ],
      { respond, env: { VALENCE_PODM_PASSWORD: "pw" } },
    );
    const changed = await valence(
      ["podmanager-update", "podm1", "--owner", "project-a", "--automated-clean", "--unset", "lessee"],
      { respond },
    );
    const bogus = await valence(["podmanager-update", "podm1", "--unset", "name"], { respond });

    expect(made.code).toBe(0);
    expect(made.requests[0]?.body).toMatchObject({
      conductor_group: "rack-7",
      boot_interface: "redfish-virtual-media",
      automated_clean: false,
    });
    expect(made.requests[0]?.body).not.toHaveProperty("owner");
    expect(changed.code).toBe(0);
    expect(changed.requests.find((request) => request.method === "PATCH")?.body).toEqual({
      owner: "project-a",
      automated_clean: true,
      lessee: null,
    });
    expect(bogus.code).toBe(2);
    expect(bogus.err).toContain("not a placement field");
    expect(bogus.requests.some((request) => request.method === "PATCH")).toBe(false);
  });

  it("podmanager-update --url or --driver sends the credentials again, with the current username", async () => {
    const respond = (request: Recorded) => podManagers(request) ?? created(request);
    const moved = await valence(["podmanager-update", "podm1", "--url", "https://192.0.2.20"], {
      respond,
      env: { VALENCE_PODM_PASSWORD: "again" },
    });
    const redriven = await valence(["podmanager-update", "podm1", "--driver", "rsd"], {
      respond,
      tty: true,
      answers: ["typed-again"],
    });
    const refused = await valence(["podmanager-update", "podm1", "--url", "https://192.0.2.20"], { respond });

    const patchOf = (run: typeof moved) => run.requests.find((request) => request.method === "PATCH")?.body;
    expect(moved.code).toBe(0);
    expect(patchOf(moved)).toEqual({
      url: "https://192.0.2.20",
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "again" } }],
    });
    expect(patchOf(redriven)).toEqual({
      driver: "rsd",
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "typed-again" } }],
    });
    expect(refused.code).toBe(2);
    expect(refused.requests.some((request) => request.method === "PATCH")).toBe(false);
  });

  it("podmanager-list, -show and -delete", async () => {
    const list = await valence(["podmanager-list"], { respond: (request) => podManagers(request) });
    const show = await valence(["podmanager-show", "podm1"], {
      respond: (request) => podManagers(request) ?? created(request),
    });
    const gone = await valence(["podmanager-delete", "nope"], { respond: (request) => podManagers(request) });

    expect(list.out).toMatch(/│ UUID\s+│ Name\s+│ URL/);
    expect(list.out).toContain(PODM.uuid);
    expect(show.requests.at(-1)?.url.pathname).toBe(`/v1/pod_managers/${PODM.uuid}`);
    expect(gone.code).toBe(3);
    expect(gone.err).toBe("Not Found: no pod manager has the name or uuid nope\n");
    expect(gone.requests.some((request) => request.method === "DELETE")).toBe(false);
  });
});

describe("valence: exit codes and errors", () => {
  it.each([
    [errorBody(404, "NodeNotFound", "Not Found", "node n1 not found"), 3, "Not Found: node n1 not found"],
    [
      errorBody(409, "NodeManagedByIronic", "Conflict", "node n1 is managed by Ironic"),
      3,
      "Conflict: node n1 is managed by Ironic",
    ],
    [
      errorBody(500, "InternalError", "Internal Server Error", "unexpected"),
      4,
      "Internal Server Error: unexpected",
    ],
    [
      errorBody(503, "IronicUnavailable", "Service Unavailable", "Ironic down"),
      4,
      "Service Unavailable: Ironic down",
    ],
    [
      { status: 403, body: { message: "Missing Authentication Token" } },
      3,
      "HTTP 403: Missing Authentication Token",
    ],
  ])("an API answer of %j exits %i and prints title: detail on stderr", async (answer, exitCode, message) => {
    const { code, out, err } = await valence(["node-show", "n1"], { respond: () => answer });

    expect(code).toBe(exitCode);
    expect(err).toBe(`${message}\n`);
    expect(out).toBe("");
  });

  describe("an IAM refusal by API Gateway", () => {
    const GATEWAY = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod";
    const CALLER = "arn:aws:sts::123456789012:assumed-role/viewers/alice";
    const RESOURCE = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/nodes/n1/register";
    const ATTACH =
      "Attach the stack's caller policy to that identity (role, user or group): the reader policy (GET routes, " +
      "output ReaderPolicyArn) or the operator policy (every route, output OperatorPolicyArn); see infra/DEPLOY.md.";

    it("names the caller, the missing permission, the route and the policies that grant it; exits 3", async () => {
      const { code, out, err, requests } = await valence(["node-register", "n1"], {
        env: { VALENCE_URL: GATEWAY },
        respond: () => ({
          status: 403,
          body: {
            Message: `User: ${CALLER} is not authorized to perform: execute-api:Invoke on resource: ${RESOURCE}`,
          },
        }),
      });

      expect(requests[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
      expect(code).toBe(3);
      expect(out).toBe("");
      expect(err).toBe(
        `Forbidden: ${CALLER} may not call route POST /v1/nodes/{id}/register (POST /v1/nodes/n1/register): ` +
          `it lacks IAM permission execute-api:Invoke on ${RESOURCE}\n${ATTACH}\n`,
      );
    });

    it("turns the bare Forbidden of an HTTP API into the same advice, naming the route asked for", async () => {
      const { code, err } = await valence(["node-show", "n1"], {
        env: { VALENCE_URL: GATEWAY },
        respond: () => ({ status: 403, body: { message: "Forbidden" } }),
      });

      expect(code).toBe(3);
      expect(err).toBe(
        "Forbidden: the signing AWS identity may not call route GET /v1/nodes/{id} (GET /v1/nodes/n1): " +
          `it lacks IAM permission execute-api:Invoke\n${ATTACH}\n`,
      );
    });

    it("says when the refused request was not signed at all", async () => {
      const { code, err } = await valence(["podmanager-list"], {
        respond: () => ({ status: 403, body: { message: "Forbidden" } }),
      });

      expect(code).toBe(3);
      expect(err).toContain("may not call route GET /v1/pod_managers (GET /v1/pod_managers)");
      expect(err).toContain(
        "The request was not signed: API Gateway needs SigV4 (pass --sigv4 and --region).",
      );
    });

    it("does not suggest attaching a policy against an explicit deny", async () => {
      const { code, err } = await valence(["node-register", "n1"], {
        env: { VALENCE_URL: GATEWAY },
        respond: () => ({
          status: 403,
          body: {
            Message: `User: ${CALLER} is not authorized to perform: execute-api:Invoke on resource: ${RESOURCE} with an explicit deny`,
          },
        }),
      });

      expect(code).toBe(3);
      expect(err).toContain("it lacks IAM permission execute-api:Invoke on");
      expect(err).toContain("An explicit Deny in one of its policies refuses it");
      expect(err).not.toContain("Attach");
    });

    it("leaves other refusals (a bad signature) as API Gateway said them", async () => {
      const said = "The request signature we calculated does not match the signature you provided.";
      const { code, err } = await valence(["node-show", "n1"], {
        env: { VALENCE_URL: GATEWAY },
        respond: () => ({ status: 403, body: { message: said } }),
      });

      expect(code).toBe(3);
      expect(err).toBe(`HTTP 403: ${said}\n`);
    });
  });

  it("exits 4 when the API cannot be reached", async () => {
    const io = memoryIo();
    const code = await main(["node-list"], {
      config: readCliConfig({}),
      io,
      fetch: (async () => {
        throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      }) as typeof fetch,
    });

    expect(code).toBe(4);
    expect(io.err()).toBe("cannot reach Valence at http://127.0.0.1:8181: ECONNREFUSED\n");
  });

  it.each([
    [["node-show"], "missing required argument 'node'"],
    [["node-bogus"], "unknown command 'node-bogus'"],
    [["node-list", "--managed-by", "nova"], "Allowed choices are ironic, valence"],
    [["node-list", "--limit", "0"], "must be an integer from 1 to 1000"],
    [["node-register", "n1", "--wait-timeout", "soon"], "must be an integer from 1 to 604800"],
    [["node-register", "n1", "--wait-timeout", "604801"], "must be an integer from 1 to 604800"],
    [["node-register"], "give exactly one of <node>, --file or --all"],
    [["node-register", "n1", "--file", "nodes.yaml"], "give exactly one of <node>, --file or --all"],
    [["node-register", "--all"], "--all needs --podm"],
    [["node-action", "n1", "reset", "kick"], 'Reset.Type: must be one of "On", "ForceOff"'],
    [["node-action", "n1", "wiggle", "x"], 'unknown action "wiggle"'],
    [["node-action", "n1", "boot", "pxe", "--once", "--continuous"], "cannot be used with option"],
    [
      ["node-compose", "--name", "n", "--podm", "p", "--processor-model", "Xeon"],
      "--processor-model needs --cores",
    ],
    [["--url", "ftp://x", "node-list"], "is not http(s)"],
    [["-f", "yaml", "node-list"], "Allowed choices are table, json"],
  ])("valence %j is a usage error: exit 2, nothing sent", async (argv, message) => {
    const { code, err, requests } = await valence(argv);

    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(requests).toEqual([]);
  });
});

describe("valence --help", () => {
  const commands = [
    "node-register",
    "node-unregister",
    "node-show",
    "node-list",
    "node-history",
    "node-compose",
    "node-manage",
    "node-delete",
    "node-action",
    "podmanager-create",
    "podmanager-list",
    "podmanager-show",
    "podmanager-update",
    "podmanager-delete",
  ];

  it("lists every command, the environment and the exit codes, and exits 0", async () => {
    const { code, out } = await valence(["--help"]);

    expect(code).toBe(0);
    for (const command of commands) expect(out).toMatch(new RegExp(`^  ${command} `, "m"));
    expect(out).toContain("VALENCE_URL");
    expect(out).toContain("3  the API refused the request (4xx)");
  });

  it("explains the example flow in users' terms, not the project's history", async () => {
    const { out } = await valence(["--help"]);

    expect(out).toContain("the Valence register flow");
    expect(out).toMatch(/valence node-register test-node\n\s+valence node-show test-node/);
    expect(out).not.toMatch(/seed/i);
  });

  it.each([
    [
      "node-register",
      [
        "--manage",
        "--provide",
        "--resource-class",
        "--wait-timeout",
        "--boot-mac",
        "--ports",
        "--file",
        "--all",
        "--podm",
        "--concurrency",
      ],
    ],
    ["node-unregister", ["--force"]],
    ["node-show", ["--refresh"]],
    ["node-list", ["--managed-by", "--podm", "--name", "--limit"]],
    [
      "node-compose",
      ["--name", "--podm", "--memory-mib", "--cores", "--processor-model", "--resource-block"],
    ],
    ["node-manage", ["<podm>", "<index>", "--name"]],
    ["node-action", ["reset <type>", "boot <target>", "--once", "--continuous"]],
    ["podmanager-create", ["--name", "--url", "--driver", "--username", "--password", "--no-verify-ca"]],
    ["podmanager-update", ["--verify-ca", "--no-verify-ca", "--password"]],
  ])("%s --help documents its options and the connection options", async (command, flags) => {
    const { code, out } = await valence([command, "--help"]);

    expect(code).toBe(0);
    expect(out).toContain(`Usage: valence ${command}`);
    for (const flag of [...flags, "-f, --format", "--sigv4", "--region"]) expect(out).toContain(flag);
  });

  it.each(["podmanager-create", "podmanager-update"])(
    "%s --help prefers VALENCE_PODM_PASSWORD or the hidden prompt over a password in argv",
    async (command) => {
      const { code, out } = await valence([command, "--help"]);

      expect(code).toBe(0);
      expect(out).toContain("VALENCE_PODM_PASSWORD");
      expect(out).toContain("hidden prompt");
      expect(out).toMatch(/shell\s+history/);
    },
  );
});
