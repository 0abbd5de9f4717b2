#!/bin/sh
# Lays out the root file system of foreman's FROM scratch image: the compiled executable
# needs the dynamic loader and the glibc libraries `ldd` names, CA certificates for an https
# target, a writable /tmp and a /data volume owned by the non-root user, and passwd/group
# entries naming that user. Used by the Dockerfile's build stage and by
# scripts/image-context.sh, so the image is the same either way.
# Usage: scripts/rootfs.sh EXECUTABLE OUTDIR
set -eu
exe=$1
out=$2
uid=10001
mkdir -p "$out/etc/ssl/certs" "$out/tmp" "$out/data"
for lib in $(ldd "$exe" | grep -o '/[^ ]*'); do
  cp -L --parents "$lib" "$out"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\nforeman:x:%s:%s:foreman:/data:/sbin/nologin\n' "$uid" "$uid" >"$out/etc/passwd"
printf 'root:x:0:\nforeman:x:%s:\n' "$uid" >"$out/etc/group"
chmod 1777 "$out/tmp"
chown "$uid:$uid" "$out/data"
