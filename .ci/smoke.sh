#!/usr/bin/env bash
# Starts the compiled executable against its built-in simulator and checks /healthz.
set -euo pipefail
exe="$1"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$exe" --version
FOREMAN_DB="$dir/foreman.db" "$exe" serve --port 0 --host 127.0.0.1 --target sim >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  url=$(grep -o '"msg":"foreman listening","url":"[^"]*"' "$dir/log" | sed 's/.*"url":"//; s/"$//' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { cat "$dir/log"; echo "smoke: foreman did not start"; exit 1; }
curl -fsS "$url/healthz"; echo
"$exe" healthcheck --url "$url"
kill -TERM "$pid"
wait "$pid"
echo "smoke: ok"
