import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readCliConfig } from "../../cli/config.ts";
import { main } from "../../cli/main.ts";
import { memoryIo } from "../../cli/memory-io.ts";
import { apiGatewayRegion, signRequest } from "../../cli/sigv4.ts";

/** The credentials and date of AWS's SigV4 test suite (docs.aws.amazon.com, "Signature Version 4 test suite"). */
const SUITE = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  date: new Date("2015-08-30T12:36:00Z"),
};

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: string | Buffer, text: string) => createHmac("sha256", key).update(text, "utf8").digest();
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * SigV4 written out from the specification with node:crypto only — independent of @smithy/signature-v4, so the two
 * can check each other.
 */
function referenceSignature(request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  secretAccessKey: string;
  amzDate: string;
}) {
  const query = [...request.url.searchParams]
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const names = Object.keys(request.headers)
    .map((name) => name.toLowerCase())
    .sort();
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const canonicalRequest = [
    request.method,
    request.url.pathname
      .split("/")
      .map((segment) => rfc3986(decodeURIComponent(segment)))
      .join("/"),
    query,
    names.map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, " ")}\n`).join(""),
    names.join(";"),
    sha256(request.body),
  ].join("\n");
  const day = request.amzDate.slice(0, 8);
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", request.amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${request.secretAccessKey}`, day), request.region), request.service),
    "aws4_request",
  );
  return {
    canonicalRequest,
    stringToSign,
    signature: createHmac("sha256", key).update(stringToSign).digest("hex"),
  };
}

function parseAuthorization(header: string) {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    header,
  );
  if (!match) throw new Error(`not a SigV4 authorization header: ${header}`);
  return {
    credential: match[1] as string,
    signedHeaders: (match[2] as string).split(";"),
    signature: match[3] as string,
  };
}

describe("signRequest against AWS's SigV4 test suite", () => {
  const credentials = { accessKeyId: SUITE.accessKeyId, secretAccessKey: SUITE.secretAccessKey };

  it("the reference implementation reproduces get-vanilla's canonical request and string to sign", () => {
    const reference = referenceSignature({
      method: "GET",
      url: new URL("https://example.amazonaws.com/"),
      headers: { host: "example.amazonaws.com", "x-amz-date": "20150830T123600Z" },
      body: "",
      region: "us-east-1",
      service: "service",
      secretAccessKey: SUITE.secretAccessKey,
      amzDate: "20150830T123600Z",
    });

    expect(reference.canonicalRequest).toBe(
      "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(reference.stringToSign).toBe(
      "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    );
    expect(reference.signature).toBe("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  });

  it.each([
    [
      "get-vanilla",
      "GET",
      "https://example.amazonaws.com/",
      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ],
    [
      "get-vanilla-query-order-key-case",
      "GET",
      "https://example.amazonaws.com/?Param2=value2&Param1=value1",
      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ],
    [
      "post-vanilla",
      "POST",
      "https://example.amazonaws.com/",
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ],
  ])("%s: the published signature", async (_name, method, url, signature) => {
    const headers = await signRequest(
      { method, url: new URL(url), headers: {} },
      { region: "us-east-1", service: "service", credentials, signingDate: SUITE.date },
    );

    expect(headers["x-amz-date"]).toBe("20150830T123600Z");
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
        `SignedHeaders=host;x-amz-date, Signature=${signature}`,
    );
  });

  it("a changed body changes the signature (the payload is signed)", async () => {
    const sign = (body: string) =>
      signRequest(
        { method: "POST", url: new URL("https://example.amazonaws.com/"), headers: {}, body },
        { region: "us-east-1", service: "service", credentials, signingDate: SUITE.date },
      );

    expect((await sign('{"force":true}')).authorization).not.toBe(
      (await sign('{"force":false}')).authorization,
    );
  });
});

describe("valence against an API Gateway endpoint", () => {
  const temporary = {
    accessKeyId: "ASIAEXAMPLE",
    secretAccessKey: "temporary/secret+key",
    sessionToken: "session-token",
  };

  async function capture(argv: string[], env: Record<string, string> = {}) {
    const sent: { url: URL; method: string; headers: Record<string, string>; body: string }[] = [];
    let credentialLookups = 0;
    const io = memoryIo();
    const code = await main(argv, {
      config: readCliConfig(env),
      io,
      credentials: async () => {
        credentialLookups++;
        return temporary;
      },
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        sent.push({
          url: new URL(String(input)),
          method: init?.method ?? "GET",
          headers: { ...(init?.headers as Record<string, string>) },
          body: typeof init?.body === "string" ? init.body : "",
        });
        return new Response("[]", { status: 200, headers: { "content-type": "application/json" } });
      }) as typeof fetch,
    });
    return { code, sent, credentialLookups, err: io.err() };
  }

  it("reads the region from execute-api host names", () => {
    expect(apiGatewayRegion(new URL("https://abc123.execute-api.eu-west-1.amazonaws.com"))).toBe("eu-west-1");
    expect(apiGatewayRegion(new URL("https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"))).toBe(
      "cn-north-1",
    );
    expect(apiGatewayRegion(new URL("http://127.0.0.1:8181"))).toBeUndefined();
    expect(apiGatewayRegion(new URL("https://execute-api.example.com"))).toBeUndefined();
  });

  it("signs every request for execute-api with the URL's region, verifiably, body and query included", async () => {
    const url = "https://abc123.execute-api.eu-west-1.amazonaws.com";
    const register = await capture(["node-register", "n1", "--manage", "--url", url]);
    const list = await capture(["node-list", "--name", "a b", "--managed-by", "valence", "--url", url]);

    for (const { sent } of [register, list]) {
      expect(sent).toHaveLength(1);
      const request = sent[0] as (typeof sent)[number];
      const authorization = parseAuthorization(request.headers.authorization ?? "");
      expect(authorization.credential).toMatch(/^ASIAEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request$/);
      expect(authorization.signedHeaders).toContain("host");
      expect(authorization.signedHeaders).toContain("x-amz-security-token");
      expect(request.headers["x-amz-security-token"]).toBe("session-token");
      // Recompute over exactly what was sent (fetch adds Host from the URL) and compare.
      const signed = Object.fromEntries(
        authorization.signedHeaders.map((name) => [
          name,
          name === "host" ? request.url.host : (request.headers[name] as string),
        ]),
      );
      const reference = referenceSignature({
        method: request.method,
        url: request.url,
        headers: signed,
        body: request.body,
        region: "eu-west-1",
        service: "execute-api",
        secretAccessKey: temporary.secretAccessKey,
        amzDate: request.headers["x-amz-date"] as string,
      });
      expect(authorization.signature).toBe(reference.signature);
    }
    expect(register.sent[0]?.body).toBe('{"manage":true}');
    expect(list.sent[0]?.url.searchParams.get("name")).toBe("a b");
  });

  it("does not sign (nor look up credentials) for the local stack", async () => {
    const { sent, credentialLookups } = await capture(["node-list"]);

    expect(sent[0]?.headers.authorization).toBeUndefined();
    expect(credentialLookups).toBe(0);
  });

  it("signs for another host with --sigv4, for --region or else AWS_REGION, looking credentials up once", async () => {
    const withFlag = await capture([
      "node-list",
      "--limit",
      "5",
      "--sigv4",
      "--region",
      "us-west-2",
      "--url",
      "https://valence.example.com",
    ]);
    const fromEnv = await capture(["--sigv4", "node-list", "--url", "https://valence.example.com"], {
      AWS_REGION: "ap-south-1",
    });
    const noRegion = await capture(["node-list", "--sigv4", "--url", "https://valence.example.com"]);

    expect(parseAuthorization(withFlag.sent[0]?.headers.authorization ?? "").credential).toContain(
      "/us-west-2/execute-api/",
    );
    expect(withFlag.credentialLookups).toBe(1);
    expect(parseAuthorization(fromEnv.sent[0]?.headers.authorization ?? "").credential).toContain(
      "/ap-south-1/execute-api/",
    );
    expect(noRegion.code).toBe(2);
    expect(noRegion.err).toContain("no region to sign for");
    expect(noRegion.sent).toEqual([]);
  });
});
