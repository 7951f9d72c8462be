import type { ComposedNode, RedfishSystem } from "./schemas.ts";

/**
 * What defines a composed system's hardware, as its pod manager links it: DMTF the system's `Links.ResourceBlocks`
 * (the blocks it is composed of), RSD the ComposedNode's device links (processors, memory, NICs, local and remote
 * drives). Sorted paths, each prefixed with the link's kind, so two reads of an unchanged composition are equal
 * whatever order the pod manager lists them in. Both are in the very resource that lists the composed systems,
 * so knowing them costs no request beyond the listing.
 */
export function dmtfComposition(
  system: Pick<RedfishSystem, "Links">,
  toPath: (link: string) => string,
): string[] {
  return sortedLinks([["ResourceBlocks", system.Links?.ResourceBlocks]], toPath);
}

export function rsdComposition(
  node: Pick<ComposedNode, "Links">,
  toPath: (link: string) => string,
): string[] {
  const links = node.Links;
  return sortedLinks(
    [
      ["Processors", links.Processors],
      ["Memory", links.Memory],
      ["EthernetInterfaces", links.EthernetInterfaces],
      ["LocalDrives", links.LocalDrives],
      ["RemoteDrives", links.RemoteDrives],
    ],
    toPath,
  );
}

function sortedLinks(
  groups: ReadonlyArray<readonly [string, ReadonlyArray<{ "@odata.id": string }> | null | undefined]>,
  toPath: (link: string) => string,
): string[] {
  const entries = new Set<string>();
  for (const [kind, links] of groups) {
    for (const link of links ?? []) entries.add(`${kind}:${toPath(link["@odata.id"])}`);
  }
  return [...entries].sort();
}
