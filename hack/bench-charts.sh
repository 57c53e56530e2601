#!/usr/bin/env bash
# bench-charts.sh: what rendering charts costs kcloud, against `helm
# template` of the same charts in the same run (medians of 5, peak RSS).
#  1. kcloud render of a copy of specs/ (all 7 charts, 13 components)
#     vs helm template of the 7 charts with their default values;
#  2. 50 components each rendering the vault chart vs 50 helm templates
#     of it. The helm CLI is built from the Go module proxy
#     (helm.sh/helm/v4/cmd/helm@v4.3.2) into bin/. No timing is asserted.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kcloud=$root/bin/kcloud
# shellcheck source=lib.sh
source "$root/hack/lib.sh"
charts=$root/../shared/upstream/charts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ ! -x $root/bin/helm ]]; then
  (cd "$tmp" && go mod init helmbuild >/dev/null 2>&1 && go get helm.sh/helm/v4/cmd/helm@v4.3.2 >/dev/null 2>&1 &&
    go build -o "$root/bin/helm" helm.sh/helm/v4/cmd/helm)
fi
helm=$root/bin/helm

# measure NAME CMD...: 5 runs; prints the median wall time and the
# largest peak RSS.
measure() {
  local name=$1; shift
  local times=() rss=0 out
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>&1 || { echo "$name: failed" >&2; return 1; }
    out=$(tail -1 "$tmp/time")
    times+=("${out% *}")
    (( ${out#* } > rss )) && rss=${out#* }
  done
  printf '%-44s median %6.2fs  peak RSS %6d MiB\n' "$name" \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)" $((rss / 1024))
}

helm_all() { for f in "$charts"/*.tgz; do "$helm" template bench "$f" >/dev/null; done; }
helm_vault50() { for _ in $(seq 50); do "$helm" template bench "$charts/vault-0.29.1.tgz" >/dev/null; done; }
export -f helm_all helm_vault50
export helm charts

specs_copy "$root/specs" "$tmp/specs"
measure "kcloud render specs/ (7 charts)" "$kcloud" render "$tmp/specs"
measure "helm template of the 7 charts" bash -c helm_all

mkdir -p "$tmp/fifty/l2"
sed -n '/^kind: Cluster/,$p' "$tmp/specs/cluster.yaml" | sed '1i apiVersion: kcloud.dev/v1alpha1' | sed '/schemas:/,$d' >"$tmp/fifty/cluster.yaml"
for i in $(seq 50); do
  cat >"$tmp/fifty/l2/vault-$i.yaml" <<YAML
apiVersion: kcloud.dev/v1alpha1
kind: Component
metadata: {name: vault-$i}
spec:
  layer: L2
  namespace: platform
  stateful: false
  helm: {repo: https://helm.releases.hashicorp.com, chart: vault, version: 0.29.1, values: {injector: {enabled: false}}}
YAML
done
"$kcloud" manifests add --specs "$tmp/fifty" "$charts/vault-0.29.1.tgz" >/dev/null
measure "kcloud render, 50 components × vault" "$kcloud" render "$tmp/fifty"
measure "helm template vault × 50" bash -c helm_vault50
