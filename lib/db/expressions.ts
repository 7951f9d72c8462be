/**
 * The `SET` part of a versioned update: bumps `version` and `updated_at`, and sets every defined field of
 * `changes`. Adds the names and values it uses to the maps the caller also fills with its condition's.
 */
export function versionedSet(
  changes: Record<string, unknown>,
  nextVersion: number,
  updatedAt: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
): string {
  const assignments = ["#version = :nextVersion", "#updatedAt = :updatedAt"];
  names["#version"] = "version";
  names["#updatedAt"] = "updated_at";
  values[":nextVersion"] = nextVersion;
  values[":updatedAt"] = updatedAt;
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#f_${field}`] = field;
    values[`:f_${field}`] = value;
    assignments.push(`#f_${field} = :f_${field}`);
  }
  return `SET ${assignments.join(", ")}`;
}
