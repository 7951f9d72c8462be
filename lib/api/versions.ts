/** The version documents of `GET /` and `GET /v1`, in Valence's shape. */
export const API_VERSION = { min: "1.0", max: "1.0" } as const;

function link(base: string, path: string, rel: string) {
  return { href: `${base}${path}`, rel };
}

export function rootDocument(base: string) {
  return {
    name: "valence",
    description: "Valence composes nodes from pod managers and registers them into OpenStack Ironic.",
    versions: [
      {
        id: "v1",
        status: "CURRENT",
        min_version: API_VERSION.min,
        max_version: API_VERSION.max,
        links: [link(base, "/v1", "self")],
      },
    ],
    default_version: {
      id: "v1",
      min_version: API_VERSION.min,
      max_version: API_VERSION.max,
      links: [link(base, "/v1", "self")],
    },
  };
}

export function v1Document(base: string) {
  return {
    id: "v1",
    status: "CURRENT",
    min_version: API_VERSION.min,
    max_version: API_VERSION.max,
    media_types: [{ base: "application/json", type: "application/vnd.openstack.valence.v1+json" }],
    links: [link(base, "/v1", "self")],
    nodes: [link(base, "/v1/nodes", "self")],
    pod_managers: [link(base, "/v1/pod_managers", "self")],
  };
}
