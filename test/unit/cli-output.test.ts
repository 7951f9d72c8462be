import { describe, expect, it } from "vitest";
import { nextPageUrl } from "../../cli/client.ts";
import { DEFAULT_URL, readCliConfig } from "../../cli/config.ts";
import {
  ApiError,
  describeErrorBody,
  EXIT,
  ExitWith,
  exitCodeOf,
  routeOfRequest,
  UnreachableError,
  UsageError,
} from "../../cli/errors.ts";
import {
  columns,
  flattenFields,
  formatDetail,
  formatJson,
  formatList,
  formatValue,
  NODE_COLUMNS,
} from "../../cli/output.ts";

describe("output formatting", () => {
  it("shows nested fields as dotted rows, lists one per line, and null as None", () => {
    expect(
      flattenFields({ a: 1, hardware: { cpus: 8, nics: [{ mac: "m", enabled: true }] }, intent: null }),
    ).toEqual([
      ["a", 1],
      ["hardware.cpus", 8],
      ["hardware.nics", [{ mac: "m", enabled: true }]],
      ["intent", null],
    ]);
    expect(formatValue(null)).toBe("None");
    expect(
      formatValue([
        { mac: "m1", enabled: true },
        { mac: "m2", enabled: false },
      ]),
    ).toBe("mac=m1, enabled=true\nmac=m2, enabled=false");
    expect(formatValue({ type: "basic", auth_items: { username: "u", password: "***" } })).toBe(
      'type=basic, auth_items={"username":"u","password":"***"}',
    );
  });

  it("draws a Field | Value table with one rule under the header and no colour codes", () => {
    const text = formatDetail({ name: "n1", managed_by: "ironic", ironic_node_uuid: null });

    expect(text.split("\n")).toEqual([
      "┌──────────────────┬────────┐",
      "│ Field            │ Value  │",
      "├──────────────────┼────────┤",
      "│ name             │ n1     │",
      "│ managed_by       │ ironic │",
      "│ ironic_node_uuid │ None   │",
      "└──────────────────┴────────┘",
      "",
    ]);
  });

  it("draws one row per item with the chosen columns", () => {
    const text = formatList(
      [
        {
          uuid: "u1",
          name: "n1",
          managed_by: "valence",
          podm_id: "p",
          index: "1",
          ironic_node_uuid: null,
          extra: "x",
        },
        { uuid: "u2", name: "n2", managed_by: "ironic", podm_id: "p", index: "2", ironic_node_uuid: "i2" },
      ],
      NODE_COLUMNS,
    );
    const rows = text.split("\n").filter((line) => line.startsWith("│"));

    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/│ UUID │ Name │ Managed By │ Pod Manager │ Index │ Ironic Node │/);
    expect(rows[2]).toMatch(/│ u2\s+│ n2\s+│ ironic\s+│ p\s+│ 2\s+│ i2\s+│/);
    expect(text).not.toContain("extra");
  });

  it("reads a column table written as one line of Header=path, in order", () => {
    expect(columns("UUID=uuid, Ironic Node=ironic_node_uuid, Outcome=outcome.code")).toEqual([
      { header: "UUID", path: "uuid" },
      { header: "Ironic Node", path: "ironic_node_uuid" },
      { header: "Outcome", path: "outcome.code" },
    ]);
  });

  it("prints JSON as the API sent it, pretty", () => {
    expect(JSON.parse(formatJson({ a: [1, { b: null }] }))).toEqual({ a: [1, { b: null }] });
    expect(formatJson([])).toBe("[]\n");
  });
});

describe("errors and exit codes", () => {
  it("maps usage errors to 2, 4xx to 3, 5xx and unreachable to 4; every exit code is distinct", () => {
    expect(exitCodeOf(new UsageError("x"))).toBe(EXIT.usage);
    expect(exitCodeOf(new ApiError(404, {}, "NodeNotFound", "x"))).toBe(EXIT.clientError);
    expect(exitCodeOf(new ApiError(409, {}, "Conflict", "x"))).toBe(EXIT.clientError);
    expect(exitCodeOf(new ApiError(502, {}, "UpstreamError", "x"))).toBe(EXIT.serverError);
    expect(exitCodeOf(new UnreachableError("x"))).toBe(EXIT.serverError);
    expect(exitCodeOf(new ExitWith(EXIT.operationFailed))).toBe(5);
    expect(exitCodeOf(new ExitWith(EXIT.interrupted))).toBe(130);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });

  it("says title: detail for Valence's body, and something readable for anything else", () => {
    expect(
      describeErrorBody(
        409,
        { code: "NodeBusy", title: "Conflict", detail: "node n1 is busy", status: 409 },
        "",
      ),
    ).toEqual({ code: "NodeBusy", message: "Conflict: node n1 is busy" });
    expect(describeErrorBody(403, { message: "Missing Authentication Token" }, "")).toEqual({
      message: "HTTP 403: Missing Authentication Token",
    });
    expect(describeErrorBody(502, "<html>bad gateway</html>", "<html>bad gateway</html>")).toEqual({
      message: "HTTP 502: <html>bad gateway</html>",
    });
  });
});

describe("the route a refused request was for", () => {
  it("matches the route table, a literal segment before a parameter, the method included", () => {
    expect(routeOfRequest("GET", "/v1/nodes/n1")).toBe("GET /v1/nodes/{id}");
    expect(routeOfRequest("POST", "/v1/nodes/manage")).toBe("POST /v1/nodes/manage");
    expect(routeOfRequest("POST", "/v1/operations/op-1/cancel")).toBe("POST /v1/operations/{id}/cancel");
    expect(routeOfRequest("GET", "/")).toBe("GET /");
    expect(routeOfRequest("PUT", "/v1/nodes/n1")).toBeUndefined();
    expect(routeOfRequest("GET", "/v1/nodes/n1/nowhere")).toBeUndefined();
  });
});

describe("the next-page link", () => {
  it("finds rel=next among links", () => {
    expect(nextPageUrl('<https://h/v1/nodes?marker=x>; rel="next"')).toBe("https://h/v1/nodes?marker=x");
    expect(nextPageUrl('<https://h/a>; rel="prev", <https://h/b>; rel=next')).toBe("https://h/b");
    expect(nextPageUrl('<https://h/a>; rel="prev"')).toBeUndefined();
    expect(nextPageUrl(null)).toBeUndefined();
  });
});

describe("readCliConfig", () => {
  it("defaults to the local stack and treats empty variables as unset", () => {
    expect(readCliConfig({})).toEqual({ url: DEFAULT_URL });
    expect(readCliConfig({ VALENCE_URL: "", VALENCE_PODM_PASSWORD: "" })).toEqual({ url: DEFAULT_URL });
  });

  it("reads the URL, the pod-manager password and the region (AWS_REGION before AWS_DEFAULT_REGION)", () => {
    expect(
      readCliConfig({
        VALENCE_URL: "https://v.example",
        VALENCE_PODM_PASSWORD: "pw",
        AWS_REGION: "eu-west-1",
        AWS_DEFAULT_REGION: "us-east-2",
        UNRELATED: "x",
      }),
    ).toEqual({ url: "https://v.example", podmPassword: "pw", awsRegion: "eu-west-1" });
    expect(readCliConfig({ AWS_DEFAULT_REGION: "us-east-2" }).awsRegion).toBe("us-east-2");
  });
});
