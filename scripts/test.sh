#!/usr/bin/env bash
# `npm test`: makes sure the system packages the tests talk to are present,
# builds, then runs mocha (.mocharc.json picks the spec files).
# Extra arguments go to mocha, e.g. `npm test -- --grep 'embedded'`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# memcached (with Cyrus SASL tools for its -S mode) and the PHP clients are reference
# implementations the e2e tests compare against.
packages=(memcached libmemcached-tools php-cli php-memcached php-memcache sasl2-bin libsasl2-modules)
# The Galera tests (test/integration/galera) run a 3-node cluster of local servers: the
# wsrep provider and rsync for state transfers. Without mariadb-server they skip (fail in CI).
packages+=(galera-4 rsync)
# Health checks through a real load balancer; other clients' stats calls (dalli, pymemcache,
# pylibmc); certificates for the TLS tests, and python3 for their client and the socket tests.
packages+=(haproxy ruby ruby-dalli python3 python3-pymemcache python3-pylibmc openssl)
# With an external test database there is no need for a local server.
[ -n "${MEMGATE_TEST_DB_URL:-}" ] || packages=(mariadb-server "${packages[@]}")

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  else
    echo "test.sh: the tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm rewrites node_modules/.package-lock.json on every install, so it is older
# than the lockfile exactly when dependencies changed since the last install.
if [ ! -f node_modules/.package-lock.json ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# Compiled tests whose sources were deleted would otherwise still match the spec glob.
rm -rf dist/test
npm run build
exec npx mocha "$@"
