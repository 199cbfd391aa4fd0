#!/usr/bin/env bash
# Run `make STAGE` for each stage in order, timing each; print a table of wall times at the end,
# also when a stage failed (then the run stops there and exits with its status).
set -uo pipefail
cd "$(dirname "$0")/.."
names=()
secs=()
status=0
start_all=$(date +%s)
for stage in "$@"; do
  echo "==> make $stage"
  start=$(date +%s)
  make --no-print-directory "$stage"
  status=$?
  names+=("$stage")
  secs+=($(( $(date +%s) - start )))
  [ "$status" = 0 ] || break
done
total=$(( $(date +%s) - start_all ))
echo
echo "| stage | wall time |"
echo "|---|---|"
for i in "${!names[@]}"; do
  printf '| %s | %dm %02ds |\n' "${names[$i]}" $(( secs[i] / 60 )) $(( secs[i] % 60 ))
done
printf '| **total** | **%dm %02ds** |\n' $(( total / 60 )) $(( total % 60 ))
if [ "$status" = 0 ]; then
  echo "make test: all suites passed"
else
  echo "make test: stage '${names[-1]}' failed (status $status)"
fi
exit "$status"
