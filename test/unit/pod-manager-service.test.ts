import { describe, expect, it } from "vitest";
import { PodManagerConflictError, PodManagerInUseError, ValidationError } from "../../lib/errors.ts";
import type { NewPodManager, PodManager, PodManagerChanges } from "../../lib/podmanagers/model.ts";
import type { PodManagerRepository } from "../../lib/podmanagers/repository.ts";
import { PodManagerService } from "../../lib/podmanagers/service.ts";
import type { Credentials, SecretStore } from "../../lib/secrets/store.ts";

class MemorySecrets implements SecretStore {
  readonly values = new Map<string, Credentials>();
  async put(name: string, credentials: Credentials) {
    this.values.set(name, credentials);
    return name;
  }
  async get(ref: string) {
    const value = this.values.get(ref);
    if (!value) throw new Error("missing");
    return value;
  }
  async delete(ref: string) {
    this.values.delete(ref);
  }
}

class MemoryPodManagers implements PodManagerRepository {
  readonly items = new Map<string, PodManager>();
  failCreate = false;
  async create(podm: NewPodManager) {
    if (this.failCreate) throw new PodManagerConflictError("name", podm.name);
    const stored = { ...podm, created_at: "t", updated_at: "t", version: 1 };
    this.items.set(podm.uuid, stored);
    return stored;
  }
  async get(uuid: string) {
    return this.items.get(uuid);
  }
  async findByName(name: string) {
    return [...this.items.values()].find((p) => p.name === name);
  }
  async list() {
    return [...this.items.values()];
  }
  async update(uuid: string, version: number, changes: PodManagerChanges) {
    const current = this.items.get(uuid);
    if (!current || current.version !== version) throw new Error("conflict");
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const next = { ...current, ...defined, version: version + 1 };
    this.items.set(uuid, next);
    return next;
  }
  async delete(uuid: string) {
    this.items.delete(uuid);
  }
}

const input = {
  name: "podm1",
  url: "http://podm",
  driver: "redfish" as const,
  verify_ca: true,
  authentication: [{ type: "basic" as const, auth_items: { username: "admin", password: "pw" } }],
};

describe("PodManagerService", () => {
  it("stores the password in the secret store only, and the probe's status", async () => {
    const secrets = new MemorySecrets();
    const repository = new MemoryPodManagers();
    const service = new PodManagerService({
      repository,
      secrets,
      countNodes: async () => 0,
      probe: async () => "online",
    });

    const podm = await service.create(input);

    expect(podm.status).toBe("online");
    expect(JSON.stringify([...repository.items.values()])).not.toContain('"pw"');
    expect(await secrets.get(podm.credentials_ref)).toEqual({ username: "admin", password: "pw" });
  });

  it("deletes the secret again when the record cannot be written", async () => {
    const secrets = new MemorySecrets();
    const repository = new MemoryPodManagers();
    repository.failCreate = true;
    const service = new PodManagerService({ repository, secrets, countNodes: async () => 0 });

    await expect(service.create(input)).rejects.toBeInstanceOf(PodManagerConflictError);
    expect(secrets.values.size).toBe(0);
  });

  it("keeps neither record nor secret when the pod manager may not be reached at all", async () => {
    const secrets = new MemorySecrets();
    const repository = new MemoryPodManagers();
    const refusal = new ValidationError("url: resolves to a refused address");
    const service = new PodManagerService({
      repository,
      secrets,
      countNodes: async () => 0,
      probe: async () => {
        throw refusal;
      },
    });

    await expect(service.create(input)).rejects.toBe(refusal);
    expect(repository.items.size).toBe(0);
    expect(secrets.values.size).toBe(0);
  });

  it("refuses to delete a pod manager with nodes, and deletes record and secret otherwise", async () => {
    const secrets = new MemorySecrets();
    const repository = new MemoryPodManagers();
    let nodes = 2;
    const service = new PodManagerService({ repository, secrets, countNodes: async () => nodes });
    const podm = await service.create(input);

    await expect(service.delete(podm.uuid)).rejects.toBeInstanceOf(PodManagerInUseError);
    nodes = 0;
    await service.delete(podm.uuid);
    expect(repository.items.size).toBe(0);
    expect(secrets.values.size).toBe(0);
  });

  it("replaces credentials in place on update", async () => {
    const secrets = new MemorySecrets();
    const service = new PodManagerService({
      repository: new MemoryPodManagers(),
      secrets,
      countNodes: async () => 0,
    });
    const podm = await service.create(input);

    const { podManager: updated } = await service.update(podm.uuid, {
      authentication: [{ type: "basic", auth_items: { username: "root", password: "new" } }],
    });

    expect(updated.username).toBe("root");
    expect(updated.credentials_ref).toBe(podm.credentials_ref);
    expect(await secrets.get(podm.credentials_ref)).toEqual({ username: "root", password: "new" });
  });

  it("follows the secret to a new reference when the store had to create it anew (a moved prefix)", async () => {
    const secrets = new MemorySecrets();
    const repository = new MemoryPodManagers();
    const service = new PodManagerService({ repository, secrets, countNodes: async () => 0 });
    const podm = await service.create(input);
    const moved = Object.assign(Object.create(secrets) as MemorySecrets, {
      put: async (name: string, credentials: Credentials) => secrets.put(`stack-b/${name}`, credentials),
    });
    const afterMove = new PodManagerService({ repository, secrets: moved, countNodes: async () => 0 });

    const { podManager: updated } = await afterMove.update(podm.uuid, {
      authentication: [{ type: "basic", auth_items: { username: "admin", password: "again" } }],
    });

    expect(updated.credentials_ref).toBe(`stack-b/${podm.credentials_ref}`);
    expect(await secrets.get(updated.credentials_ref)).toEqual({ username: "admin", password: "again" });
  });

  describe("a change of url or driver", () => {
    const setup = async () => {
      const secrets = new MemorySecrets();
      const repository = new MemoryPodManagers();
      const probed: Array<{ url: string; driver: string; credentials: Credentials }> = [];
      const service = new PodManagerService({
        repository,
        secrets,
        countNodes: async () => 0,
        probe: async (podm, credentials) => {
          probed.push({ url: podm.url, driver: podm.driver, credentials });
          return "online";
        },
      });
      const podm = await service.create(input);
      probed.length = 0;
      return { service, repository, secrets, probed, podm };
    };

    it.each([
      ["a new url", { url: "http://elsewhere" }, "url"],
      ["a new driver", { driver: "rsd" as const }, "driver"],
      ["a new url with other fields", { url: "http://elsewhere", verify_ca: false, name: "x" }, "url"],
      ["TLS verification turned off", { verify_ca: false }, "verify_ca"],
    ])("refuses %s without credentials, before probing or writing anything", async (_what, change, field) => {
      const { service, repository, secrets, probed, podm } = await setup();

      const refused = service.update(podm.uuid, change);

      await expect(refused).rejects.toBeInstanceOf(ValidationError);
      await expect(refused).rejects.toThrow(/body\.authentication: is required/);
      await expect(refused).rejects.toThrow(field);
      expect(probed).toEqual([]);
      expect(repository.items.get(podm.uuid)).toEqual(podm);
      expect(await secrets.get(podm.credentials_ref)).toEqual({ username: "admin", password: "pw" });
    });

    it("accepts the same url and driver again without credentials", async () => {
      const { service, probed, podm } = await setup();

      const { podManager: updated } = await service.update(podm.uuid, {
        url: podm.url,
        driver: podm.driver,
        name: "renamed",
      });

      expect(updated.name).toBe("renamed");
      expect(probed).toEqual([
        { url: podm.url, driver: podm.driver, credentials: { username: "admin", password: "pw" } },
      ]);
    });

    it("probes the new url with the new credentials only", async () => {
      const { service, secrets, probed, podm } = await setup();
      const fresh = { username: "other", password: "new-pw" };

      const { podManager: updated } = await service.update(podm.uuid, {
        url: "http://elsewhere",
        authentication: [{ type: "basic", auth_items: fresh }],
      });

      expect(updated.url).toBe("http://elsewhere");
      expect(probed).toEqual([{ url: "http://elsewhere", driver: "redfish", credentials: fresh }]);
      expect(await secrets.get(podm.credentials_ref)).toEqual(fresh);
    });
  });
});
