#!/bin/sh
# Stand-in for the K3s installer (https://get.k3s.io), for kcloud's tests.
#
# It reads the variables and flags the real installer and K3s read, writes
# nothing outside its test directory (@STANDIN_DIR@, substituted by
# internal/testenv), records each run, and drops a stand-in k3s that answers
# `k3s --version`, `k3s kubectl get node NAME -o jsonpath=...`,
# `k3s etcd-snapshot save|prune` and `k3s server --cluster-reset`, K3s's
# uninstall script (k3s-uninstall.sh or k3s-agent-uninstall.sh, as the real
# installer names them), and a systemctl that plays the init system for the
# k3s and k3s-agent services. Every action is a line of $dir/events.log.
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

event() { echo "$*" >>"$dir/events.log"; }

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

event "install $node_name $cmd $version"

# --- what K3s would leave behind ---
mkdir -p "$bin_dir"
cat >"$bin_dir/k3s" <<K3S
#!/bin/sh
# stand-in k3s $version on $node_name
echo "\$0 \$*" >>'$dir/k3s-argv.log'
node='$node_name'
data_dir='$data_dir'
event() { echo "\$*" >>'$dir/events.log'; }
name=on-demand
retention=5
restore=
reset=
sub="\${1:-}"
[ \$# -gt 0 ] && shift
if [ "\$sub" = etcd-snapshot ]; then
	sub="etcd-snapshot \${1:-}"
	[ \$# -gt 0 ] && shift
fi
case "\$sub" in
"etcd-snapshot "* | server)
	while [ \$# -gt 0 ]; do
		case "\$1" in
		--name) name=\$2; shift ;;
		--name=*) name=\${1#*=} ;;
		--data-dir) data_dir=\$2; shift ;;
		--data-dir=*) data_dir=\${1#*=} ;;
		--snapshot-retention | --etcd-snapshot-retention) retention=\$2; shift ;;
		--cluster-reset) reset=yes ;;
		--cluster-reset-restore-path) restore=\$2; shift ;;
		--cluster-reset-restore-path=*) restore=\${1#*=} ;;
		esac
		shift
	done
	;;
esac
snapdir="\$data_dir/server/db/snapshots"
case "\$sub" in
"etcd-snapshot save")
	if [ -e '$dir/fail-snapshot' ]; then
		echo "level=fatal msg=\"failed to save snapshot: stand-in fault\"" >&2
		exit 1
	fi
	if [ ! -d "\$data_dir/server/db/etcd" ]; then
		echo "level=fatal msg=\"etcd datastore disabled\"" >&2
		exit 1
	fi
	mkdir -p "\$snapdir"
	ts=\$(date +%s)
	while [ -e "\$snapdir/\$name-\$node-\$ts" ]; do ts=\$((ts + 1)); done
	echo "snapshot of \$node" >"\$snapdir/\$name-\$node-\$ts"
	event "snapshot \$node \$name-\$node-\$ts"
	echo "level=info msg=\"Snapshot \$name-\$node-\$ts saved.\"" >&2
	;;
"etcd-snapshot prune")
	# K3s keeps the newest of the names with the prefix, by the UNIX time
	# after the last dash (snapshotRetention in
	# https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/pkg/etcd/snapshot.go).
	ls -1 "\$snapdir" 2>/dev/null | grep "^\$name" | awk -F- '{print \$NF" "\$0}' | sort -rn |
		awk -v keep="\$retention" 'NR > keep {print \$2}' |
		while read -r f; do
			rm -f "\$snapdir/\$f"
			event "prune \$node \$f"
		done
	;;
server)
	if [ -z "\$reset" ]; then
		echo "stand-in k3s: only --cluster-reset runs in the foreground" >&2
		exit 1
	fi
	if [ ! -f "\$restore" ]; then
		echo "level=fatal msg=\"stat \$restore: no such file or directory\"" >&2
		exit 1
	fi
	mv "\$data_dir/server/db/etcd" "\$data_dir/server/db/etcd-old-\$(date +%s%N)"
	mkdir -p "\$data_dir/server/db/etcd"
	cp "\$restore" "\$data_dir/server/db/etcd/restored-from"
	event "reset \$node \$(basename "\$restore")"
	echo "level=info msg=\"Managed etcd cluster membership has been reset, restart without --cluster-reset flag now.\"" >&2
	;;
--version | -v)
	echo "k3s version $version (standin)"
	echo "go version go1.24.6"
	;;
kubectl)
	if [ "\${1:-}" = get ] && [ "\${2:-}" = node ] && [ -n "\${3:-}" ]; then
		# Ready, and the kubelet's version: what the node's file says.
		if [ -f '$dir/ready/'"\$3" ]; then
			printf 'True %s' "\$(cat '$dir/ready/'"\$3")"
			exit 0
		fi
		echo "Error from server (NotFound): nodes \"\$3\" not found" >&2
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

# K3s's uninstall script: k3s-uninstall.sh on a server, k3s-agent-uninstall.sh
# on an agent, next to k3s (UNINSTALL_K3S_SH in
# https://github.com/k3s-io/k3s/blob/v1.33.5+k3s1/install.sh).
service=k3s
[ "$cmd" = agent ] && service=k3s-agent
cat >"$bin_dir/$service-uninstall.sh" <<UNINSTALL
#!/bin/sh
set -e
echo "uninstall $node_name $cmd" >>'$dir/events.log'
rm -rf '$data_dir' '$dir/ready/$node_name'
if [ '$cmd' = server ]; then rm -f '$kubeconfig'; fi
rm -f '$bin_dir/k3s' '$bin_dir/systemctl' "\$0"
UNINSTALL
chmod 0755 "$bin_dir/$service-uninstall.sh"

# The init system: the real installer starts the k3s (or k3s-agent) service
# with systemd or OpenRC; this one records what is asked of it. kcloud finds
# it first because it puts K3s's bin dir first on its PATH.
cat >"$bin_dir/systemctl" <<SYSTEMCTL
#!/bin/sh
echo "service $node_name \$*" >>'$dir/events.log'
SYSTEMCTL
chmod 0755 "$bin_dir/systemctl"

if [ "$cmd" = server ]; then
	mkdir -p "$data_dir/server"
	tok="$data_dir/server/node-token"
	if [ -n "$joins" ]; then
		cat "${token_file}" >"$tok"
	elif [ ! -s "$tok" ]; then
		echo "K10$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')::server:$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$tok"
	fi
	chmod 0600 "$tok"
	# The server token the datastore is encrypted with, where K3s keeps it
	# (https://docs.k3s.io/datastore/backup-restore).
	cp "$tok" "$data_dir/server/token"
	# The datastore: embedded etcd for a cluster (--cluster-init, or
	# --server to join one), SQLite for a single server, where K3s keeps
	# them (server/db/etcd, server/db/state.db).
	mkdir -p "$data_dir/server/db"
	if [ -n "$server" ] || printf '%s\n' ${INSTALL_K3S_EXEC:-} | grep -qx -- --cluster-init; then
		mkdir -p "$data_dir/server/db/etcd"
	elif [ ! -d "$data_dir/server/db/etcd" ]; then
		echo "sqlite state of $node_name at $version" >"$data_dir/server/db/state.db"
	fi
	mkdir -p "$(dirname "$kubeconfig")"
	ca=$(printf -- '-----BEGIN CERTIFICATE-----\nstand-in CA of %s\n-----END CERTIFICATE-----\n' "$node_name" | base64 -w0)
	crt=$(printf -- '-----BEGIN CERTIFICATE-----\nstand-in admin of %s\n-----END CERTIFICATE-----\n' "$node_name" | base64 -w0)
	key=$(printf -- '-----BEGIN EC PRIVATE KEY-----\nstand-in key of %s\n-----END EC PRIVATE KEY-----\n' "$node_name" | base64 -w0)
	umask 077
	if [ -f "$dir/admin-kubeconfig" ]; then
		# The test's API server stands in for this server's.
		cp "$dir/admin-kubeconfig" "$kubeconfig"
	else
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
fi

if [ ! -e "$dir/never-ready/$node_name" ]; then
	echo "$version" >"$dir/ready/$node_name"
fi
echo "[INFO]  stand-in k3s $version installed as $cmd $node_name"
