"""What Ironic's own out-of-band inspection (the `redfish` inspect interface) computes from a Redfish system.

Usage: ironic-inspect-figures.py BASE_URL USERNAME PASSWORD SYSTEM_PATH
Reads the system with sushy, as Ironic does, and runs Ironic's own code on it: the processor summary and its
CPU_ARCH_MAP, MemorySummary in GiB × 1024, and RedfishInspect._detect_local_gb. Prints one JSON object; a figure
Ironic would not write (it keeps the node's value then) is null.
"""
import json
import sys
import types

import sushy
from ironic.drivers.modules.redfish import inspect as redfish_inspect


def main():
    base_url, username, password, system_path = sys.argv[1:5]
    system = sushy.Sushy(base_url, username=username, password=password).get_system(system_path)
    cpus, arch = system.processors.summary
    memory = system.memory_summary.size_gib if system.memory_summary else None
    task = types.SimpleNamespace(node=types.SimpleNamespace(uuid=system_path))
    json.dump(
        {
            "cpus": cpus or None,
            "memory_mb": memory * 1024 if memory else None,
            "local_gb": redfish_inspect.RedfishInspect()._detect_local_gb(task, system),
            "cpu_arch": redfish_inspect.CPU_ARCH_MAP.get(arch) if arch else None,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
