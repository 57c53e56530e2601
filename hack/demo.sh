#!/usr/bin/env bash
# make demo: on a throwaway test control plane (kube-apiserver + etcd, the
# CRDs K3s serves), run vet → diff → apply → diff on a copy of specs/, then
# make a small change and show its diff — what a user sees — and stop
# everything. The copy's manifest cache is filled offline (specs_copy).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=hack/lib.sh
source hack/lib.sh

kcloud=${KCLOUD:-$root/bin/kcloud}
[[ -x $kcloud ]] || go build -o "$kcloud" ./cmd/kcloud
work=$(mktemp -d)
cleanup() { stop_apiserver; rm -rf "$work"; }
trap cleanup EXIT
export CI=${CI:-} # logs as console lines on a terminal, JSON lines in CI
specs_copy specs "$work/specs"

bold='' dim='' off=''
if [[ -t 1 ]]; then bold=$'\033[1m' dim=$'\033[2m' off=$'\033[0m'; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$off"; }
expect() { # expect CODE CMD...: run, show, and check the exit code
  local want=$1 code=0
  shift
  say "${*/#$kcloud/kcloud}"
  "$@" || code=$?
  printf '%s(exit %d)%s\n' "$dim" "$code" "$off"
  if [[ $code -ne $want ]]; then
    echo "demo: expected exit $want" >&2
    exit 1
  fi
}

echo "Starting a test control plane (kube-apiserver $("$root/bin/kube-apiserver" --version | cut -d' ' -f2), etcd)…"
start_apiserver "$work" -platform
# The test server listens on 127.0.0.1, which is not the cluster specs/
# describes: name its context, as a user does who means that server, to get
# past apply's wrong-cluster guard.
ctx=(--context "$(sed -n 's/^current-context: //p' "$KUBECONFIG")")

cd "$work"
expect 0 "$kcloud" vet specs
say "kcloud diff specs   # a fresh cluster: every object is a create (summary only)"
code=0
"$kcloud" diff specs "${ctx[@]}" >"$work/diff.txt" || code=$?
grep -E '^(STACK|l[0-9]|[0-9]+ to create)' "$work/diff.txt" || true
printf '%s(exit %d; %d lines of diff)%s\n' "$dim" "$code" "$(wc -l <"$work/diff.txt")" "$off"
[[ $code -eq 1 ]]
# A test API server runs no controllers: Deployments never become ready,
# so the demo does not wait for health.
expect 0 "$kcloud" apply specs "${ctx[@]}" --wait=false --log-level warn
expect 0 "$kcloud" diff specs "${ctx[@]}"
sed -i 's/replicas: 1/replicas: 3/' specs/l4-apps/example-app.yaml
say "sed -i 's/replicas: 1/replicas: 3/' specs/l4-apps/example-app.yaml"
expect 1 "$kcloud" diff specs --env prod "${ctx[@]}"
expect 0 "$kcloud" apply specs --env prod "${ctx[@]}" --wait=false --log-level warn
expect 1 "$kcloud" status specs --env prod "${ctx[@]}"
echo
echo "demo: done (status is 1 above: the test API server has no controllers, so Deployments never become ready, and no K3s local-path class)."
