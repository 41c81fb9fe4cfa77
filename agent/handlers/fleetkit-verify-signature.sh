#!/usr/bin/env bash
# Fleetkit's signature check for the AWS IoT Device Client (job contract version 1).
# Arguments: $1 runAsUser (passed first by the Device Client), $2 localPath, $3 sha256Hex, $4 signatureBase64,
# $5 signingCertificateName.
# Checks the file's SHA-256, then its ECDSA P-256 / SHA-256 signature (DER, base64) against the signing
# certificate installed on this device as ${FLEETKIT_SIGNING_CERT_DIR}/<name>.pem (default
# /etc/fleetkit/signing-certificates). The certificate is never taken from the job document.
# Exit status 0 only when both match; on failure the file is deleted so nothing can install it.
set -euo pipefail

if (($# != 5)); then
  echo "usage: fleetkit-verify-signature.sh <runAsUser> <localPath> <sha256Hex> <signatureBase64> <signingCertificateName>" >&2
  exit 2
fi
local_path=$2
expected_sha=$(printf '%s' "$3" | tr 'A-F' 'a-f')
signature_b64=$4
cert_name=$5
cert_dir=${FLEETKIT_SIGNING_CERT_DIR:-/etc/fleetkit/signing-certificates}

fail() {
  echo "signature check failed, nothing was applied: $*" >&2
  rm -f "$local_path"
  exit 1
}

[[ "$cert_name" =~ ^[A-Za-z0-9_.-]{1,64}$ && "$cert_name" != "." && "$cert_name" != ".." ]] ||
  fail "signing certificate name '${cert_name}' is not a name"
cert="${cert_dir}/${cert_name}.pem"
[[ -f "$cert" ]] || fail "signing certificate '${cert_name}' is not installed on this device"
[[ -f "$local_path" ]] || fail "${local_path} does not exist"

actual_sha=$(openssl dgst -sha256 -r "$local_path" | cut -d' ' -f1)
[[ "$actual_sha" == "$expected_sha" ]] ||
  fail "SHA-256 mismatch: the file hashes to ${actual_sha}, the job expects ${expected_sha}"

openssl x509 -in "$cert" -noout -checkend 0 >/dev/null 2>&1 || fail "signing certificate '${cert_name}' has expired"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl x509 -in "$cert" -pubkey -noout >"$work/key.pem" 2>/dev/null || fail "signing certificate '${cert_name}' cannot be read"
openssl pkey -pubin -in "$work/key.pem" -noout -text 2>/dev/null | grep -q 'prime256v1' ||
  fail "signing certificate '${cert_name}' is not an ECDSA P-256 certificate"
printf '%s' "$signature_b64" | openssl base64 -d -A >"$work/signature.der" 2>/dev/null || fail "the signature is not base64"
openssl dgst -sha256 -verify "$work/key.pem" -signature "$work/signature.der" "$local_path" >/dev/null 2>&1 ||
  fail "the signature does not verify with signing certificate \"${cert_name}\""
echo "verified ${local_path} with signing certificate ${cert_name}"
