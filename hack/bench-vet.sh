#!/usr/bin/env bash
# Whole-process timings of vet and render: specs/, a generated tree of
# 500 L3 + 500 L4 components, and an alias bomb. Prints the median wall
# time and the peak RSS of N runs (default 11).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-11}
go build -o bin/kcloud ./cmd/kcloud
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./hack/gentree "$tmp/gen" 500
# the generated tree's L3 components render testdata's kv chart: cache it
bin/kcloud manifests add --manifest-cache "$tmp/gen.cache" --specs "$tmp/gen" testdata/charts/kv-0.1.0.tgz >/dev/null
# shellcheck source=hack/lib.sh
source hack/lib.sh
kcloud=bin/kcloud
specs_copy specs "$tmp/specs" # its ${NAME}s and pinned manifests, offline

measure() { # label, command...
  local label=$1; shift
  local times=() rss=0
  for _ in $(seq "$n"); do
    /usr/bin/time -o "$tmp/time" -f "%e %M" "$@" >/dev/null 2>&1 || true
    out=$(tail -1 "$tmp/time")
    times+=("${out% *}")
    (( ${out#* } > rss )) && rss=${out#* }
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-32s median %6.3f s   peak RSS %4d MB   (%d runs)\n' "$label" "$median" $((rss / 1024)) "$n"
}
measure "vet specs/" bin/kcloud vet "$tmp/specs"
measure "render specs/" bin/kcloud render "$tmp/specs"
measure "vet 1,000 components" bin/kcloud vet "$tmp/gen" --manifest-cache "$tmp/gen.cache"
measure "render 1,000 components" bin/kcloud render "$tmp/gen" --manifest-cache "$tmp/gen.cache"
measure "vet alias bomb (exit 1)" sh -c 'bin/kcloud vet testdata/invalid-alias-bomb; test $? -eq 1'
