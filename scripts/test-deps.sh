#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (npm's pretest
# step). As root it installs them; otherwise it prints the exact command and stops.
# Each row: a command the tests run (or, for a library, an absolute path of a file it
# installs), then the Debian package that provides it.
set -euo pipefail

needs=(
  "busybox busybox-static"  # the offline base image (src/e2e/busybox.ts)
  "skopeo skopeo"           # OCI archive checks
  "umoci umoci"
  "zstd zstd"               # layer codecs kiln runs as filters
  "bzip2 bzip2"
  "xz xz-utils"
  "tar tar"
  "go golang-go"            # Go's archive/tar is the oracle for kiln's tar writer
  "getfattr attr"           # xattr checks (getfattr, setfattr)
  "/usr/include/libdeflate.h libdeflate-dev"  # the addon's layer gzip (native/src/gzip-members.cc)
)

missing=()
for row in "${needs[@]+"${needs[@]}"}"; do
  read -r cmd pkg <<<"$row"
  if [[ $cmd == /* ]]; then
    [ -e "$cmd" ] || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "kiln's tests need: ${missing[*]}. Run as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
