# Shared by hack/demo.sh and hack/bench.sh: start and stop the test control
# plane (kube-apiserver + etcd from bin/) through hack/apiserver.

# start_apiserver DIR [FLAG…]: builds hack/apiserver into DIR, starts it
# with the FLAGs, waits for it and exports KUBECONFIG.
start_apiserver() {
  local dir=$1
  shift
  export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/bin}
  go build -o "$dir/apiserver" ./hack/apiserver
  "$dir/apiserver" -write-kubeconfig "$dir/kubeconfig" "$@" >"$dir/apiserver.out" 2>&1 &
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
# its chart lock replaced by one pinning ../shared/upstream/charts,
# with the ${NAME}s specs/ reads set to stand-in values and a throwaway
# manifest cache ($KCLOUD_MANIFEST_CACHE) filled offline: from the user's
# own cache, from ../shared/upstream (the upstream files CI and development
# machines have beside the project: manifests/, and Traefik's Middleware CRD,
# the Cluster's schema source); nothing is downloaded (tests never reach
# the internet, and kubero-operator is not a Go module);
# 'kcloud manifests add' checks each file against the pin in the tree.
# Without the Kubero operator manifest, the copy leaves out the two Kubero
# components and says why.
specs_copy() {
  local src=$1 dst=$2 user_cache vet upstream
  user_cache=${KCLOUD_MANIFEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kcloud/manifests}
  upstream=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/upstream
  export VPS_HOST=${VPS_HOST:-203.0.113.10} # the specs read it; no SSH happens here
  # specs/ ships encrypted to the public demo key (demo only; docs/secrets.md).
  export SOPS_AGE_KEY_FILE=${SOPS_AGE_KEY_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/demo.agekey}
  export KCLOUD_MANIFEST_CACHE=$dst.manifests
  cp -r "$src" "$dst"
  # The copy's chart lock pins the archives of ../shared/upstream/charts,
  # built from the charts' sources: their sha256 is not the published
  # archives' that specs/charts.lock pins (charts/README.md there says why).
  rm -f "$dst/charts.lock"
  if compgen -G "$upstream/charts/*.tgz" >/dev/null; then
    "$kcloud" manifests add --specs "$dst" "$upstream"/charts/*.tgz >/dev/null
  else
    echo "note: no chart archives in $upstream/charts: the copy's charts are fetched from their repositories" >&2
  fi
  if [[ -d $user_cache ]]; then
    "$kcloud" manifests add --specs "$dst" "$user_cache"/* >/dev/null 2>&1 || true
  fi
  if [[ -d $upstream/manifests ]]; then
    "$kcloud" manifests add --specs "$dst" "$upstream"/manifests/* >/dev/null 2>&1 || true
  fi
  if [[ -f $upstream/crds/cluster/traefik.io_middlewares.yaml ]]; then
    "$kcloud" manifests add --specs "$dst" "$upstream/crds/cluster/traefik.io_middlewares.yaml" >/dev/null 2>&1 || true
  fi
  vet=$("$kcloud" vet "$dst" 2>/dev/null) || true # not piped into grep -q: with pipefail its early exit would race vet
  if grep -q 'operator.yaml: not in the manifest cache' <<<"$vet"; then
    # kubero-operator is not a Go module, so the Go module proxy is no
    # source for it: ../shared/upstream/manifests or the user's cache is.
    echo "note: the pinned Kubero operator manifest is not in the manifest cache ($user_cache) nor in $upstream/manifests:" >&2
    echo "  running without specs/l2-platform/kubero-operator.yaml and kubero.yaml; fill the cache once with 'kcloud manifests fetch specs' (online) or 'kcloud manifests add FILE'" >&2
    rm "$dst/l2-platform/kubero-operator.yaml" "$dst/l2-platform/kubero.yaml" "$dst/l2-platform/secrets/kubero-secrets.sops.yaml"
  fi
  if grep -q 'traefik.io_middlewares.yaml: not in the manifest cache' <<<"$vet"; then
    echo "note: Traefik's Middleware CRD (a schema source of specs/cluster.yaml) is not in the manifest cache: running without it" >&2
    sed -i '/# The schema vet checks Traefik Middlewares against/,$d' "$dst/cluster.yaml"
  fi
}
