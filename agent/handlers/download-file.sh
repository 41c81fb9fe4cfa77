#!/usr/bin/env bash
# Fleetkit's download-file.sh for the AWS IoT Device Client: downloads a URL (normally a presigned S3 URL) to a
# local file. Same arguments as the Device Client's sample handler and the AWS-Download-File managed template,
# so it can replace it: $1 runAsUser (passed first by the Device Client), $2 url, $3 localPath.
# Creates the parent directory, writes to a temporary file and renames it, so a partial download never looks
# complete. Never prints the URL's query string (a presigned URL's signature is a credential).
set -euo pipefail

if (($# != 3)); then
  echo "usage: download-file.sh <runAsUser> <url> <localPath>" >&2
  exit 2
fi
url=$2
local_path=$3
shown_url=${url%%\?*}

case "$url" in
http://* | https://*) ;;
*)
  echo "refusing to download ${shown_url}: only http(s) URLs are allowed" >&2
  exit 1
  ;;
esac
case "/$local_path/" in
*/../*)
  echo "refusing to write ${local_path}: the path contains '..'" >&2
  exit 1
  ;;
esac

mkdir -p "$(dirname "$local_path")"
tmp="${local_path}.part"
trap 'rm -f "$tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  curl --fail --silent --show-error --location --output "$tmp" "$url"
elif command -v wget >/dev/null 2>&1; then
  wget --quiet --output-document="$tmp" "$url"
else
  echo "neither curl nor wget is installed" >&2
  exit 1
fi
mv -f "$tmp" "$local_path"
trap - EXIT
echo "downloaded ${shown_url} to ${local_path}"
