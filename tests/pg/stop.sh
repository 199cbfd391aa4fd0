#!/usr/bin/env bash
# Stop the PostgreSQL started by start.sh in DIR and remove DIR.
set -uo pipefail
dir="$1"
[ -f "$dir/bin" ] || exit 0
as=()
[ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
"${as[@]}" "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$dir"
