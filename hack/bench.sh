#!/usr/bin/env bash
# hack/bench.sh: times kcloud against kubectl v1.37.2 (from make testbin) and
# against the floor (hack/floor: one server-side-apply PATCH per object from
# 16 workers, unthrottled; dry runs for diffs) on the same test API server
# in the same run — specs/, and the object mix at each size — and writes the
# medians, ratios and the issue's targets to bench/RESULTS.md.
#   COUNT=5 (samples per measurement), SIZES="1000 4000 10000" (objects in the mix; each first apply on a fresh API server),
#   RESULTS=bench/RESULTS.md (where the results go)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/bin}
results=${RESULTS:-$root/bench/RESULTS.md}
mkdir -p "$(dirname "$results")"

go build -o bin/kcloud ./cmd/kcloud
go build -o bin/floor ./hack/floor
echo "machine: $(nproc) cores, $(uname -sm); load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
KCLOUD_BIN=$root/bin/kcloud KCLOUD_FLOOR=$root/bin/floor \
  KCLOUD_BENCH_COUNT=${COUNT:-5} KCLOUD_BENCH_SIZES=${SIZES:-1000 4000 10000} \
  KCLOUD_BENCH_RESULTS=$results \
  go test ./cmd/kcloud -run '^$' -bench '^BenchmarkLive$' -benchtime 1x -count 1 -timeout 0
echo "written: $results" >&2
