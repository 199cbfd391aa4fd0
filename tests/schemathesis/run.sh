#!/usr/bin/env bash
# Schemathesis (from PyPI) against the hall server's own OpenAPI document: generated requests for
# every operation, checked for no 5xx, documented status codes, content types and response
# schemas. Runs on a fresh demo hall with an admin token. `make test` runs the short mode
# (fixed seed, few examples); `SCHEMATHESIS_EXAMPLES=200 tests/schemathesis/run.sh` goes longer.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cli="${ONETRIP_CLI_BIN:-$root/target/debug/onetrip}"
venv="$root/target/schemathesis-venv"
version="4.32.5"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version"
fi
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/hall.sqlite"
"$cli" --db "$db" demo >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
RUST_LOG=warn "$cli" --db "$db" serve --bind "127.0.0.1:$port" --backup-every 0 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
token="$(curl -sf -X POST "http://127.0.0.1:$port/api/op/auth.sign_in" \
  -d '{"login":"admin","password":"demo1234"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
# Left out: operations that end or lock the very session the run uses.
status=0
# Schemathesis keeps a cache in the working directory: keep it out of the repository.
cd "$work"
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
  -H "Authorization: Bearer $token" \
  --exclude-operation-id auth.sign_out \
  --exclude-operation-id auth.change_password \
  --exclude-operation-id staff.reset_password \
  --phases examples,coverage,fuzzing \
  -c not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -n "${SCHEMATHESIS_EXAMPLES:-15}" --seed "${SCHEMATHESIS_SEED:-20261122}" \
  --no-color >"$work/report.txt" 2>&1 || status=$?
mkdir -p "$root/target"
cp "$work/report.txt" "$root/target/schemathesis-report.txt"
sed -n '/SUMMARY/,$p' "$work/report.txt"
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:"; grep -m5 "panicked" "$work/server.log"; status=1
fi
kill "$server"; wait "$server" 2>/dev/null || true
exit "$status"
