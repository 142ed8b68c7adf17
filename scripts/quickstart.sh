#!/usr/bin/env bash
# `npm run quickstart`: from a fresh clone to a running gateway on 127.0.0.1:11211.
# Only Node dependencies and the build are handled here; the gateway provisions
# its own MariaDB (and installs it with apt when running as root).
# Extra arguments go to `memgate serve`, e.g. `npm run quickstart -- --port 11311`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
  echo "quickstart: $*" >&2
  exit 1
}

command -v node >/dev/null 2>&1 || fail "Node.js 20 or newer is required; install it first (https://nodejs.org/en/download)."
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is required; this is $(node --version)."

# npm rewrites node_modules/.package-lock.json on every install, so it is older
# than the lockfile exactly when dependencies changed since the last install.
if [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# A non-root gateway cannot install MariaDB itself. Ask for sudo now, while a
# person is at the terminal, rather than failing after startup.
wants_embedded_db=true
[ -z "${MEMGATE_DB_URL:-}" ] || wants_embedded_db=false
# A --config file may name a database too; then the gateway itself judges.
for arg in "$@"; do
  case "$arg" in --db-url | --db-url=* | --config | --config=* | --help) wants_embedded_db=false ;; esac
done
has_mariadb() {
  PATH="$PATH:/usr/sbin:/usr/bin" command -v mariadbd >/dev/null 2>&1 ||
    PATH="$PATH:/usr/sbin:/usr/bin" command -v mysqld >/dev/null 2>&1
}
if $wants_embedded_db && [ "$(id -u)" -ne 0 ] && ! has_mariadb; then
  if [ -t 0 ] && command -v sudo >/dev/null 2>&1; then
    echo "quickstart: memgate keeps its data in a private MariaDB; installing it with sudo apt-get." >&2
    sudo apt-get update
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server
  else
    fail "MariaDB is not installed. Run \`sudo apt-get install -y mariadb-server\`, or pass --db-url mysql://user:password@host:3306/database (or set MEMGATE_DB_URL)."
  fi
fi

npm run build
if $wants_embedded_db; then
  echo "quickstart: Ctrl-C stops the gateway and its MariaDB; its data stays in the embedded data directory (.memgate/mariadb unless --embedded-data-dir; delete it to start afresh)." >&2
else
  echo "quickstart: Ctrl-C stops the gateway." >&2
fi
exec node dist/src/cli/memgate.js serve "$@"
