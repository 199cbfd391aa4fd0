#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 for the tests: a fresh data directory under $1 (default: a new
# temporary directory), listening on 127.0.0.1 only, trust authentication (loopback, test data),
# C collation (byte order, like SQLite). Prints the server's URL on stdout; `stop.sh DIR` stops it.
# initdb refuses root, so as root the cluster belongs to the unprivileged `postgres` user that
# Debian's package creates.
set -euo pipefail
dir="${1:-$(mktemp -d /tmp/onetrip-pg.XXXXXX)}"
bin=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ]; then bin="$d"; break; fi
done
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql-15)" >&2; exit 1; }
port="${PGTEST_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as=(runuser -u postgres --)
fi
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
"${as[@]}" "$bin/initdb" -D "$dir/data" -U onetrip --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "$bin" >"$dir/bin"
echo "postgres://onetrip@127.0.0.1:$port/postgres"
