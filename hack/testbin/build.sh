#!/usr/bin/env bash
# Builds the test control plane into $1 (default bin/): kube-apiserver and
# kubectl v1.37.2, etcd v3.7.0, from the Go module proxy. Cached: a stamp
# records the go.sum it was built from, so a rerun costs a hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../bin}
mkdir -p "$out"
out=$(cd "$out" && pwd)
stamp="$out/.testbin-stamp"
want=$(cat "$here/go.mod" "$here/go.sum" "$0" | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$out/kube-apiserver" && -x "$out/etcd" && -x "$out/kubectl" ]]; then
  exit 0
fi
echo "testbin: building kube-apiserver, etcd and kubectl into $out (a few minutes when cold)" >&2
cd "$here"
version=v1.37.2
ld="-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
go build -trimpath -ldflags "$ld" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -o "$out/etcd" go.etcd.io/etcd/server/v3
go build -trimpath -ldflags "$ld" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
"$out/kube-apiserver" --version >&2
echo "$want" > "$stamp"
