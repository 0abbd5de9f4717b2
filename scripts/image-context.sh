#!/bin/sh
# Prepares DIR as the Dockerfile's `build` stage would leave it (DIR/out/foreman and
# DIR/out/rootfs), from this checkout, so the final stage can be built with
#   podman build --build-context build=DIR -f Dockerfile .
# on a machine that cannot pull the Bun base image.
# Usage: scripts/image-context.sh DIR
set -eu
dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
bun=${BUN:-$root/node_modules/.bin/bun}
mkdir -p "$dir/out"
"$bun" build --compile --outfile "$dir/out/foreman" "$root/src/main.ts" >/dev/null
sh "$root/scripts/rootfs.sh" "$dir/out/foreman" "$dir/out/rootfs"
