import { describe, expect, it } from "vitest";
import { describeInspection, inspectionReport, registeredView } from "../../lib/operations/inspection.ts";

const registered = registeredView(
  { cpus: 7, memory_mb: 65_536, local_gb: 222, cpu_arch: "x86_64", vendor: "x" },
  ["02:5A:E0:00:01:00", "02:5a:e0:00:01:01"],
);

describe("the inspect step's report", () => {
  it("agrees when Ironic writes the same values, numbers as strings", () => {
    const report = inspectionReport(
      registered,
      registeredView({ cpus: "7", memory_mb: "65536", local_gb: "222", cpu_arch: "x86_64" }, [
        "02:5a:e0:00:01:01",
        "02:5a:e0:00:01:00",
      ]),
    );
    expect(report.agrees).toBe(true);
    expect(report.ports).toEqual({
      registered: ["02:5a:e0:00:01:00", "02:5a:e0:00:01:01"],
      found: ["02:5a:e0:00:01:00", "02:5a:e0:00:01:01"],
      added_by_inspection: [],
      missing: [],
    });
    expect(describeInspection(report)).toBe(
      "inspection agrees with the registration (cpus 7, memory_mb 65536, local_gb 222, cpu_arch x86_64); 2 port(s)",
    );
  });

  it("names each property Ironic found otherwise, the ports its inspection added and those gone", () => {
    const report = inspectionReport(
      registered,
      registeredView({ cpus: 32, memory_mb: "65536", local_gb: "221", cpu_arch: "x86_64" }, [
        "02:5a:e0:00:01:00",
        "02:5a:e0:00:01:09",
      ]),
    );
    expect(report.agrees).toBe(false);
    expect(report.properties.filter((p) => !p.agrees)).toEqual([
      { name: "cpus", registered: "7", found: "32", agrees: false },
      { name: "local_gb", registered: "222", found: "221", agrees: false },
    ]);
    expect(report.ports.added_by_inspection).toEqual(["02:5a:e0:00:01:09"]);
    expect(report.ports.missing).toEqual(["02:5a:e0:00:01:01"]);
    expect(describeInspection(report)).toBe(
      "inspection found cpus 32 (registered 7), local_gb 221 (registered 222); 2 port(s); " +
        "added by Ironic's inspection: 02:5a:e0:00:01:09; gone: 02:5a:e0:00:01:01",
    );
  });

  it("only adding ports is no disagreement: they are Ironic's", () => {
    const report = inspectionReport(
      registered,
      registeredView({ cpus: 7, memory_mb: 65_536, local_gb: 222, cpu_arch: "x86_64" }, [
        ...registered.macs,
        "02:5a:e0:00:01:09",
      ]),
    );
    expect(report.agrees).toBe(true);
    expect(report.ports.added_by_inspection).toEqual(["02:5a:e0:00:01:09"]);
  });

  it("tells a property Ironic did not write from one it wrote", () => {
    const report = inspectionReport(
      registered,
      registeredView({ cpus: 7, memory_mb: 65_536 }, registered.macs),
    );
    expect(report.properties.find((p) => p.name === "cpu_arch")).toEqual({
      name: "cpu_arch",
      registered: "x86_64",
      found: null,
      agrees: false,
    });
  });
});
