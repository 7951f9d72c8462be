"""Drive a Redfish service with OpenStack's sushy (the client inside Ironic's redfish driver), the way Ironic does.

Usage: sushy-check.py BASE_URL USERNAME PASSWORD SYSTEM_PATH
Prints one JSON object on stdout: what sushy saw and did. Exits non-zero (traceback on stderr) on any failure.
"""
import json
import sys

import sushy


def main():
    base_url, username, password, system_path = sys.argv[1:5]
    root = sushy.Sushy(base_url, username=username, password=password)
    system = root.get_system(system_path)
    report = {
        "system_id": system.identity,
        "power_state_before": str(system.power_state.value),
        "macs": sorted(system.ethernet_interfaces.summary.keys()),
        "nic_states": {mac: str(state.value) for mac, state in system.ethernet_interfaces.summary.items()},
        "allowed_boot_targets": sorted(str(v.value) for v in system.get_allowed_system_boot_source_values()),
    }
    system.set_system_boot_options(sushy.BootSource.PXE, enabled=sushy.BootSourceOverrideEnabled.ONCE)
    system.reset_system(sushy.ResetType.FORCE_OFF)
    system.refresh()
    report["power_state_after_off"] = str(system.power_state.value)
    system.reset_system(sushy.ResetType.ON)
    system.refresh()
    report["power_state_after_on"] = str(system.power_state.value)
    report["boot_target"] = str(system.boot.target.value)
    report["boot_enabled"] = str(system.boot.enabled.value)
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
