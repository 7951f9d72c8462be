import { IronicNameInvalidError } from "./errors.ts";

/** Ironic's node-name rules since API 1.10 (RFC 3986 unreserved characters). */
const NAME_PATTERN = /^[A-Za-z0-9\-._~]+$/;
const MAX_NAME_LENGTH = 255;
/** Path words of `/v1/nodes/<ident>/...`: a node named like one would be unreachable by name. */
const RESERVED_NAMES = new Set([
  "states",
  "vendor_passthru",
  "management",
  "maintenance",
  "detail",
  "validate",
]);

/**
 * Ironic resolves `/v1/nodes/<ident>` as a UUID when `ident` looks like one (hyphens anywhere, any case), so
 * such a name could never be looked up.
 */
export function isUuidLike(value: string): boolean {
  return /^[0-9a-f]{32}$/i.test(value.replace(/-/g, ""));
}

/** Refuse, before calling Ironic, a name it would refuse, so the caller gets a 400 naming the rule. */
export function validateIronicName(name: string): string {
  if (name.length === 0) throw new IronicNameInvalidError("name: must not be empty");
  if (name.length > MAX_NAME_LENGTH) {
    throw new IronicNameInvalidError(`name: must be at most ${MAX_NAME_LENGTH} characters`);
  }
  if (!NAME_PATTERN.test(name)) {
    throw new IronicNameInvalidError(
      `name: ${JSON.stringify(name)} may only contain letters, digits and the characters - . _ ~`,
    );
  }
  if (isUuidLike(name))
    throw new IronicNameInvalidError(`name: ${name} looks like a UUID, which Ironic refuses`);
  if (RESERVED_NAMES.has(name)) {
    throw new IronicNameInvalidError(
      `name: ${name} is reserved by Ironic (${[...RESERVED_NAMES].join(", ")})`,
    );
  }
  return name;
}
