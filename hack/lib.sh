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
