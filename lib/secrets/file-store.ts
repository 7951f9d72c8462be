import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod/mini";
import { lazySchema } from "../lazy-schema.ts";
import { parseOrThrow } from "../validation.ts";
import { type Credentials, CredentialsSchema, type SecretStore } from "./store.ts";

const FileSchema = /* @__PURE__ */ lazySchema(() => z.record(z.string(), CredentialsSchema));

/**
 * The local stack's secret store: one JSON file, mode 0600, in the local data directory. Writes go through a
 * temporary file and a rename so a crash never leaves half a file.
 */
export class FileSecretStore implements SecretStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly path: string) {}

  private async load(): Promise<Record<string, Credentials>> {
    try {
      return parseOrThrow(FileSchema, JSON.parse(await readFile(this.path, "utf8")), "secrets file");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw error;
    }
  }

  private async save(secrets: Record<string, Credentials>): Promise<void> {
    // Only folders created here; an existing one (a home directory, say) keeps its mode.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(secrets), { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
  }

  /** Serialises read-modify-write cycles within this process. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  put(name: string, credentials: Credentials): Promise<string> {
    return this.exclusive(async () => {
      const secrets = await this.load();
      secrets[name] = credentials;
      await this.save(secrets);
      return name;
    });
  }

  async get(ref: string): Promise<Credentials> {
    const secret = (await this.load())[ref];
    if (!secret) throw new Error(`secret ${ref} not found in the local secret store`);
    return secret;
  }

  delete(ref: string): Promise<void> {
    return this.exclusive(async () => {
      const secrets = await this.load();
      if (!(ref in secrets)) return;
      delete secrets[ref];
      await this.save(secrets);
    });
  }
}
