#!/usr/bin/env bash
# Fleetkit's factory reset for the AWS IoT Device Client (job contract version 1).
# Arguments: $1 runAsUser (passed first by the Device Client); nothing else.
# Runs the device's own reset, ${FLEETKIT_FACTORY_RESET:-/etc/fleetkit/factory-reset}: wiping the device's state
# and provisioned identity is the device maker's (which files, which partitions). After it, the device onboards
# again as it did when new.
set -euo pipefail

if (($# != 1)); then
  echo "usage: fleetkit-factory-reset.sh <runAsUser>" >&2
  exit 2
fi
reset=${FLEETKIT_FACTORY_RESET:-/etc/fleetkit/factory-reset}
[[ -x "$reset" ]] || { echo "no factory reset program at ${reset}" >&2; exit 1; }
"$reset"
echo "factory reset done; the device onboards again"
