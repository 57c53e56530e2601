# Shared by hack/demo.sh and hack/bench.sh: start and stop the test control
# plane (kube-apiserver + etcd from bin/) through hack/apiserver.

# start_apiserver DIR: builds hack/apiserver into DIR, starts it, waits for
# it and exports KUBECONFIG.
start_apiserver() {
  local dir=$1
  export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/bin}
  go build -o "$dir/apiserver" ./hack/apiserver
  "$dir/apiserver" -write-kubeconfig "$dir/kubeconfig" >"$dir/apiserver.out" 2>&1 &
  apiserver_pid=$!
  local i
  for i in $(seq 1 600); do
    if grep -q '^ready$' "$dir/apiserver.out" 2>/dev/null; then
      export KUBECONFIG=$dir/kubeconfig
      return 0
    fi
    if ! kill -0 "$apiserver_pid" 2>/dev/null; then
      cat "$dir/apiserver.out" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "test control plane did not start within 60s" >&2
  cat "$dir/apiserver.out" >&2
  return 1
}

stop_apiserver() {
  if [[ -n ${apiserver_pid:-} ]] && kill -0 "$apiserver_pid" 2>/dev/null; then
    kill -INT "$apiserver_pid"
    wait "$apiserver_pid" 2>/dev/null || true
  fi
  apiserver_pid=
}

# specs_copy SRC DST: copies the spec tree SRC to DST for a throwaway run,
# with the ${NAME}s specs/ reads set to stand-in values and a throwaway
# manifest cache ($KCLOUD_MANIFEST_CACHE) filled offline: from the user's
# own cache, from ../shared/upstream/manifests (the upstream files CI and
# development machines have beside the project), then from the Go module
# proxy (kubero-operator's module zip at v0.2.1 holds deploy/operator.yaml);
# 'kcloud manifests add' checks each file against the pin in the tree.
# Without the Kubero operator manifest, the copy leaves out the two Kubero
# components and says why.
specs_copy() {
  local src=$1 dst=$2 user_cache json dir vet
  user_cache=${KCLOUD_MANIFEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kcloud/manifests}
  export VPS_HOST=${VPS_HOST:-203.0.113.10} # the specs read it; no SSH happens here
  # specs/ ships encrypted to the public demo key (demo only; docs/secrets.md).
  export SOPS_AGE_KEY_FILE=${SOPS_AGE_KEY_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/demo.agekey}
  export KCLOUD_MANIFEST_CACHE=$dst.manifests
  cp -r "$src" "$dst"
  if [[ -d $user_cache ]]; then
    "$kcloud" manifests add --specs "$dst" "$user_cache"/* >/dev/null 2>&1 || true
  fi
  local upstream
  upstream=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/upstream/manifests
  if [[ -d $upstream ]]; then
    "$kcloud" manifests add --specs "$dst" "$upstream"/* >/dev/null 2>&1 || true
  fi
  json=$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json github.com/kubero-dev/kubero-operator@v0.2.1 2>/dev/null) || true
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
  if [[ -n $dir && -f $dir/deploy/operator.yaml ]]; then
    "$kcloud" manifests add --specs "$dst" "$dir/deploy/operator.yaml" >/dev/null
  fi
  vet=$("$kcloud" vet "$dst" 2>/dev/null) || true # not piped into grep -q: with pipefail its early exit would race vet
  if grep -q 'not in the manifest cache' <<<"$vet"; then
    echo "note: the pinned Kubero operator manifest is not in the manifest cache and the Go module proxy did not serve it:" >&2
    # The go command's error is a JSON string: its \n and \t are printed as
    # the newline and indent they stand for.
    printf '%b\n' "$(sed -n 's/^[[:space:]]*"Error": "\(.*\)"$/\1/p' <<<"$json")" | sed 's/^\t*/  /' >&2
    echo "  running without specs/l2-platform/kubero-operator.yaml and kubero.yaml; fill the cache once with 'kcloud manifests fetch specs' (online) or 'kcloud manifests add FILE'" >&2
    rm "$dst/l2-platform/kubero-operator.yaml" "$dst/l2-platform/kubero.yaml" "$dst/l2-platform/secrets/kubero-secrets.sops.yaml"
  fi
}
