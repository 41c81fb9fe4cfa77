#!/usr/bin/env bash
# Fleetkit's firmware install step for the AWS IoT Device Client (job contract version 1).
# Arguments: $1 runAsUser (passed first by the Device Client), $2 localPath, $3 packageName, $4 version.
# Runs the device's own installer, ${FLEETKIT_FIRMWARE_INSTALLER:-/etc/fleetkit/install-firmware}, with
# localPath, packageName and version: what "install" means is the device maker's (write a partition, switch a
# boot slot). The job document puts a fleetkit-verify-signature.sh step for the same file before this one, and
# Fleetkit's parser refuses a document that does not; this script also refuses a file the check deleted.
# Report the new version (shadow and $package) from the new firmware once it runs, not from here.
set -euo pipefail

if (($# != 4)); then
  echo "usage: fleetkit-install-firmware.sh <runAsUser> <localPath> <packageName> <version>" >&2
  exit 2
fi
local_path=$2
package_name=$3
version=$4
installer=${FLEETKIT_FIRMWARE_INSTALLER:-/etc/fleetkit/install-firmware}

[[ "$package_name" =~ ^[a-zA-Z0-9._-]{1,128}$ ]] || { echo "invalid package name '${package_name}'" >&2; exit 1; }
[[ "$version" =~ ^[a-zA-Z0-9._-]{1,64}$ ]] || { echo "invalid version '${version}'" >&2; exit 1; }
[[ -f "$local_path" ]] || { echo "${local_path} does not exist (did its signature check fail?)" >&2; exit 1; }
[[ -x "$installer" ]] || { echo "no firmware installer at ${installer}" >&2; exit 1; }

"$installer" "$local_path" "$package_name" "$version"
rm -f "$local_path"
echo "installed ${package_name} ${version}"
