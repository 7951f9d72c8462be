import { describe, expect, it } from "vitest";
import { CreatePodManagerBody, MAX_URL_LENGTH, UpdatePodManagerBody } from "../../lib/podmanagers/schemas.ts";

const body = (url: string) => ({
  name: "podm",
  url,
  authentication: [{ type: "basic", auth_items: { username: "admin", password: "pw" } }],
});

describe("pod-manager bodies", () => {
  it("bound the URL, so an oversized one is a validation error and never reaches DynamoDB", () => {
    const longest = `https://podm.example.net/${"a".repeat(MAX_URL_LENGTH - "https://podm.example.net/".length)}`;
    expect(CreatePodManagerBody.safeParse(body(longest)).success).toBe(true);
    expect(CreatePodManagerBody.safeParse(body(`${longest}a`)).success).toBe(false);
    expect(
      CreatePodManagerBody.safeParse(body(`https://podm.example.net/${"a".repeat(450 * 1024)}`)).success,
    ).toBe(false);
    expect(UpdatePodManagerBody.safeParse({ url: `${longest}a` }).success).toBe(false);
  });

  it("bound every other string field", () => {
    const long = (length: number) => "x".repeat(length);
    const auth = (username: string, password: string) => [
      { type: "basic", auth_items: { username, password } },
    ];
    expect(CreatePodManagerBody.safeParse({ ...body("https://p"), name: long(256) }).success).toBe(false);
    expect(
      CreatePodManagerBody.safeParse({ ...body("https://p"), authentication: auth(long(256), "pw") }).success,
    ).toBe(false);
    expect(
      CreatePodManagerBody.safeParse({ ...body("https://p"), authentication: auth("u", long(1025)) }).success,
    ).toBe(false);
  });
});
