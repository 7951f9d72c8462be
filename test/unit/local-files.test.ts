import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OPENSTACK_CACHE_DIR, privateCacheDir } from "../../local/ironic.ts";

describe("privateCacheDir (the OpenStack schema cache)", () => {
  let root = "";
  afterEach(() => (root ? rm(root, { recursive: true, force: true }) : undefined));

  it("creates a missing cache with mode 0700", async () => {
    root = await mkdtemp(join(tmpdir(), "valence-cache-"));
    const dir = join(root, "cache");
    expect(await privateCacheDir(dir)).toBe(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it("refuses a cache others can write, where someone could plant a schema template", async () => {
    root = await mkdtemp(join(tmpdir(), "valence-cache-"));
    const dir = join(root, "cache");
    await mkdir(dir);
    await chmod(dir, 0o777);
    await expect(privateCacheDir(dir)).rejects.toThrow(/mode 777, open to others/);
  });

  it.runIf(process.getuid?.() === 0)("refuses a cache that belongs to another user", async () => {
    root = await mkdtemp(join(tmpdir(), "valence-cache-"));
    const dir = join(root, "cache");
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, 65534, 65534);
    await expect(privateCacheDir(dir)).rejects.toThrow(/belongs to uid 65534/);
  });

  it("refuses a symlink in place of the cache", async () => {
    root = await mkdtemp(join(tmpdir(), "valence-cache-"));
    const target = join(root, "elsewhere");
    await mkdir(target, { mode: 0o700 });
    await symlink(target, join(root, "cache"));
    await expect(privateCacheDir(join(root, "cache"))).rejects.toThrow(/not a directory/);
  });

  it("keeps the default cache per user, not one fixed path shared by everyone", () => {
    expect(OPENSTACK_CACHE_DIR).toBe(join(tmpdir(), `valence-openstack-cache-${process.getuid?.()}`));
  });
});
