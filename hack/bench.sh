#!/usr/bin/env bash
# hack/bench.sh: times kcloud against kubectl v1.37.2 (from make testbin) on
# the same test API server in the same run — diff and no-op apply, for
# specs/ and for 1,000 objects — and prints medians and ratios.
#   COUNT=5 (samples per measurement), BENCHTIME=1x (iterations per sample)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/bin}
count=${COUNT:-5}
benchtime=${BENCHTIME:-1x}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "machine: $(nproc) cores, $(uname -sm); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
go test ./cmd/kcloud -run '^$' -bench '^BenchmarkLive$' -benchtime "$benchtime" -count "$count" | tee "$out" | grep -E '^(Benchmark|ok|FAIL)' >&2

awk '
/^BenchmarkLive\// {
  name = $1; sub(/^BenchmarkLive\//, "", name); sub(/-[0-9]+$/, "", name)
  n[name]++; v[name, n[name]] = $3 / 1e9
}
function median(k,   i, j, t, a, m) {
  m = n[k]
  for (i = 1; i <= m; i++) a[i] = v[k, i]
  for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
  printf "\n%-22s %12s %12s %14s\n", "measurement", "kcloud (s)", "kubectl (s)", "kubectl/kcloud"
  split("specs/diff specs/apply-noop 1000/diff 1000/apply-noop 1000/apply-1change", keys, " ")
  for (i = 1; i <= 5; i++) {
    k = keys[i]
    if (!((k "/kcloud") in n)) continue
    kc = median(k "/kcloud")
    ref = k "/kubectl"
    # kubectl applies all 1,000 objects whether one changed or none.
    if (k == "1000/apply-1change") ref = "1000/apply-noop/kubectl"
    if (ref in n) {
      ku = median(ref)
      printf "%-22s %12.3f %12.3f %13.2fx\n", k, kc, ku, ku / kc
    } else {
      printf "%-22s %12.3f %12s %14s\n", k, kc, "-", "-"
    }
  }
  printf "(medians of %d samples; both tools run as processes, server-side, field manager kcloud)\n", n["specs/diff/kcloud"]
}' "$out"
