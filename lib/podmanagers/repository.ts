import type { NewPodManager, PodManager, PodManagerChanges } from "./model.ts";

export interface PodManagerRepository {
  /** Throws `PodManagerConflictError` when the name or url is taken. */
  create(podm: NewPodManager): Promise<PodManager>;
  get(uuid: string): Promise<PodManager | undefined>;
  findByName(name: string): Promise<PodManager | undefined>;
  list(): Promise<PodManager[]>;
  /** Throws `VersionConflictError` if `version` is no longer current, `PodManagerConflictError` on a clash. */
  update(uuid: string, version: number, changes: PodManagerChanges): Promise<PodManager>;
  delete(uuid: string, version: number): Promise<void>;
}
