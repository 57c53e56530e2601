#!/bin/sh
# Stand-in for the K3s installer (https://get.k3s.io), for kcloud's tests.
#
# It reads the variables and flags the real installer and K3s read, writes
# nothing outside its test directory (@STANDIN_DIR@, substituted by
# internal/testenv), records each run, and drops a stand-in k3s that answers
# `k3s --version` and `k3s kubectl get node NAME -o jsonpath=...`.
set -eu

dir='@STANDIN_DIR@'

fatal() {
	echo "[ERROR]  $*" >&2
	exit 1
}

# --- what the real installer reads ---
bin_dir=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
argv="$0 $*"
# shellcheck disable=SC2086
set -- ${INSTALL_K3S_EXEC:-} "$@"
cmd=server
case "${1:-}" in
server | agent)
	cmd=$1
	shift
	;;
esac
data_dir=/var/lib/rancher/k3s
kubeconfig=/etc/rancher/k3s/k3s.yaml
node_name=$(hostname)
server=
token_file=${K3S_TOKEN_FILE:-}
while [ $# -gt 0 ]; do
	case "$1" in
	--data-dir) data_dir=$2; shift ;;
	--write-kubeconfig) kubeconfig=$2; shift ;;
	--node-name) node_name=$2; shift ;;
	--server) server=$2; shift ;;
	--token-file) token_file=$2; shift ;;
	esac
	shift
done

# Agents write no kubeconfig.
check="$bin_dir $data_dir"
if [ "$cmd" = server ]; then
	check="$check $kubeconfig"
fi
for p in $check; do
	case "$p" in
	"$dir"/*) ;;
	*) fatal "stand-in refuses to write $p outside $dir" ;;
	esac
done

if [ -n "${INSTALL_K3S_VERSION:-}" ]; then
	version=$INSTALL_K3S_VERSION
else
	case "${INSTALL_K3S_CHANNEL:-stable}" in
	stable | v1.33) version=v1.33.5+k3s1 ;;
	latest | v1.34) version=v1.34.1+k3s1 ;;
	testing) version=v1.34.2-rc1+k3s1 ;;
	*) fatal "Failed to get release for channel ${INSTALL_K3S_CHANNEL}" ;;
	esac
fi

if [ "$cmd" = agent ] && [ -z "${K3S_URL:-}" ]; then
	fatal "agent needs K3S_URL"
fi
joins=
if [ "$cmd" = agent ] || [ -n "$server" ]; then
	joins=yes
	if [ -z "$token_file" ] && [ -z "${K3S_TOKEN:-}" ]; then
		fatal "joining needs K3S_TOKEN or K3S_TOKEN_FILE"
	fi
fi

# --- the record tests read back ---
mkdir -p "$dir/installs" "$dir/ready"
rec="$dir/installs/$(date +%s%N)-$$.env"
{
	echo "node=$node_name"
	echo "role=$cmd"
	echo "version=$version"
	echo "channel=${INSTALL_K3S_CHANNEL:-}"
	echo "exec=${INSTALL_K3S_EXEC:-}"
	echo "argv=$argv"
	echo "k3s_url=${K3S_URL:-}"
	echo "token_file=$token_file"
	if [ -n "$token_file" ]; then
		echo "token_file_mode=$(stat -c %a "$token_file")"
		echo "token=$(cat "$token_file")"
	fi
	echo "env_token=${K3S_TOKEN:-}"
	echo "user=$(id -un)"
} >"$rec.tmp"
mv "$rec.tmp" "$rec"

# --- what K3s would leave behind ---
mkdir -p "$bin_dir"
cat >"$bin_dir/k3s" <<K3S
#!/bin/sh
# stand-in k3s $version on $node_name
echo "\$0 \$*" >>'$dir/k3s-argv.log'
case "\${1:-}" in
--version | -v)
	echo "k3s version $version (standin)"
	echo "go version go1.24.6"
	;;
kubectl)
	if [ "\${2:-}" = get ] && [ "\${3:-}" = node ] && [ -n "\${4:-}" ]; then
		if [ -f '$dir/ready/'"\$4" ]; then
			printf True
			exit 0
		fi
		echo "Error from server (NotFound): nodes \"\$4\" not found" >&2
		exit 1
	fi
	echo "stand-in k3s: unsupported: \$*" >&2
	exit 1
	;;
*)
	echo "stand-in k3s: unsupported: \$*" >&2
	exit 1
	;;
esac
K3S
chmod 0755 "$bin_dir/k3s"

if [ "$cmd" = server ]; then
	mkdir -p "$data_dir/server"
	tok="$data_dir/server/node-token"
	if [ -n "$joins" ]; then
		cat "${token_file}" >"$tok"
	elif [ ! -s "$tok" ]; then
		echo "K10$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')::server:$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$tok"
	fi
	chmod 0600 "$tok"
	mkdir -p "$(dirname "$kubeconfig")"
	ca=$(printf -- '-----BEGIN CERTIFICATE-----\nstand-in CA of %s\n-----END CERTIFICATE-----\n' "$node_name" | base64 -w0)
	crt=$(printf -- '-----BEGIN CERTIFICATE-----\nstand-in admin of %s\n-----END CERTIFICATE-----\n' "$node_name" | base64 -w0)
	key=$(printf -- '-----BEGIN EC PRIVATE KEY-----\nstand-in key of %s\n-----END EC PRIVATE KEY-----\n' "$node_name" | base64 -w0)
	umask 077
	cat >"$kubeconfig" <<KUBECONFIG
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $ca
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: $crt
    client-key-data: $key
KUBECONFIG
fi

if [ ! -e "$dir/never-ready/$node_name" ]; then
	touch "$dir/ready/$node_name"
fi
echo "[INFO]  stand-in k3s $version installed as $cmd $node_name"
