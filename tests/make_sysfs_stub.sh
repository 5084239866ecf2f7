#!/usr/bin/env bash
# make_sysfs_stub.sh ROOT [BUS_ID [DEVICE_ID [CLASS]]]: writes the sysfs attribute files of one stub PCI
# function (vendor 0x10de) under ROOT/bus/pci/devices/BUS_ID, as the shims read them. Defaults:
# 0000:00:05.0, 0x2331 (H100 PCIe), 0x030200 (3D controller).
set -euo pipefail
root=${1:?usage: make_sysfs_stub.sh ROOT [BUS_ID [DEVICE_ID [CLASS]]]}
bus=${2:-0000:00:05.0}
device=${3:-0x2331}
class=${4:-0x030200}
d="$root/bus/pci/devices/$bus"
mkdir -p "$d"
printf '0x10de\n' >"$d/vendor"
printf '%s\n' "$device" >"$d/device"
printf '%s\n' "$class" >"$d/class"
printf '0x10de\n' >"$d/subsystem_vendor"
printf '0x16c1\n' >"$d/subsystem_device"
