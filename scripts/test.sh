#!/usr/bin/env bash
# What `npm test` runs: prerequisites, type check, lint, format check, then both jest projects.
#
# Extra arguments go to both jest runs, e.g. a path filter: `npm test -- test/lambda`.
# FLEETKIT_TEST_TARGET=localstack|aws runs the integration project against that target instead of a
# moto server started by jest's global setup (see test/support/target.ts); then moto is not needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step 'Checking prerequisites'
missing=()
if [[ "${FLEETKIT_TEST_TARGET:-moto}" == moto ]]; then
  if ! command -v python3 >/dev/null 2>&1; then
    missing+=("python3 is not installed: install Python 3, then: pip install 'moto[server]' cfn-lint")
  elif ! python3 -c 'import moto.server' >/dev/null 2>&1; then
    missing+=("moto is not installed for python3: pip install 'moto[server]' cfn-lint")
  fi
fi
# A pyenv shim can be on PATH for an interpreter without cfn-lint, so run it rather than only look it up.
if ! command -v cfn-lint >/dev/null 2>&1 || ! cfn-lint --version >/dev/null 2>&1; then
  missing+=("cfn-lint is not on PATH: pip install cfn-lint")
fi
# The local runtime's broker (runtime/broker/mosquitto.ts); Debian installs it in /usr/sbin, off a user's PATH.
if ! command -v mosquitto >/dev/null 2>&1 && [[ ! -x /usr/sbin/mosquitto ]]; then
  missing+=("mosquitto is not installed (the local runtime's MQTT broker): apt-get install -y mosquitto")
fi
if ! command -v curl >/dev/null 2>&1 && ! command -v wget >/dev/null 2>&1; then
  missing+=("neither curl nor wget is installed (agent/handlers/download-file.sh): apt-get install -y curl")
fi
if ! command -v openssl >/dev/null 2>&1; then
  missing+=("openssl is not on PATH: apt-get install openssl")
fi
if ((${#missing[@]} > 0)); then
  printf 'Missing test prerequisites:\n' >&2
  printf '  - %s\n' "${missing[@]}" >&2
  exit 1
fi
echo 'ok'

step 'Type check: tsc --noEmit'
npx tsc --noEmit

step 'Lint: eslint .'
npx eslint .

step 'Format: prettier --check .'
npx prettier --check .

step "Unit tests: jest --selectProjects unit $*"
npx jest --selectProjects unit "$@"

# One emulator serves the whole run and tests reset it between them, so integration files run one at a time.
step "Integration tests: jest --selectProjects integration --runInBand $*"
npx jest --selectProjects integration --runInBand "$@"
