#!/bin/sh
# Prepares DIR as the Dockerfile's `build` stage would leave it (DIR/out/foreman and
# DIR/out/rootfs), from this checkout, so the final stage can be built with
#   podman build --build-context build=DIR -f Dockerfile .
# on a machine that cannot pull the Bun base image.
# Usage: scripts/image-context.sh DIR
set -eu
dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir/out"
# $BUN, else the `bun` package's runtime through bin/bun.mjs (install scripts on or off)
if [ -n "${BUN:-}" ]; then set -- "$BUN"; else set -- node "$root/bin/bun.mjs"; fi
"$@" build --compile --outfile "$dir/out/foreman" "$root/src/main.ts" >/dev/null
sh "$root/scripts/rootfs.sh" "$dir/out/foreman" "$dir/out/rootfs"
