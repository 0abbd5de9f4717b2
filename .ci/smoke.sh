#!/usr/bin/env bash
# The README's install path for the compiled executable, on a machine that has never seen the
# checkout: copied onto PATH, run from an empty directory with its own HOME, it says what it is,
# serves its built-in simulator on loopback with its database in the per-user data directory,
# and answers /healthz.
set -euo pipefail
exe="$1"
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/bin" "$dir/home" "$dir/empty"
install -m 755 "$exe" "$dir/bin/foreman"
cd "$dir/empty"
export HOME="$dir/home" PATH="$dir/bin:$PATH"
unset FOREMAN_DB FOREMAN_HOST XDG_DATA_HOME
version=$(foreman --version)
[ "$version" = "foreman $(node -p 'require(process.argv[1]).version' "$OLDPWD/package.json") — queue in front of Ollama" ] || { echo "smoke: foreman --version printed: $version"; exit 1; }
echo "$version"
foreman serve --port 0 --target sim >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  url=$(grep -o '"msg":"foreman listening","url":"[^"]*"' "$dir/log" | sed 's/.*"url":"//; s/"$//' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { cat "$dir/log"; echo "smoke: foreman did not start"; exit 1; }
case "$url" in http://127.0.0.1:*) ;; *) echo "smoke: listening on $url, not loopback"; exit 1 ;; esac
[ -f "$HOME/.local/share/foreman/foreman.db" ] || { echo "smoke: no database in the per-user data directory"; exit 1; }
[ -z "$(ls -A "$dir/empty")" ] || { echo "smoke: foreman wrote into its working directory"; exit 1; }
curl -fsS "$url/healthz"; echo
foreman healthcheck --url "$url"
kill -TERM "$pid"
wait "$pid"
echo "smoke: ok"
