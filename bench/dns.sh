#!/bin/bash
# What names by DNS (aardvark-dns, src/network/dns.ts) add to a container's run on a user-defined network.
#
#   sudo bench/dns.sh            (RUNS=N, default 20)
#
# In a network and mount namespace of its own (lo up): `nsx run --rm` of /bin/true on the default
# bridge (no DNS, docker's) against a user-defined network, (a) with a peer running there (the
# server runs: one line added and a reload waited for at the start, one dropped and a reload at
# the end) and (b) alone on its network (the server started and stopped with it); and, for the
# peer's share, aardvark-dns driven by hand as netavark drives it for podman: a line appended
# and SIGHUP sent, then (what nsx adds) waited for until its port-53 socket is a new one. podman
# itself is not run here: on this machine its OCI runtimes cannot set the rlimits podman asks for
# inside the bench's namespace.
set -euo pipefail
if [ -z "${NSX_BENCH_OWN_NS:-}" ]; then
  exec env NSX_BENCH_OWN_NS=1 unshare --net --mount --propagation private -- "$0" "$@"
fi
ip link set lo up
REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-20}
AARDVARK=${NSX_AARDVARK:-/usr/lib/podman/aardvark-dns}
for c in hyperfine busybox "$AARDVARK"; do command -v "$c" >/dev/null || { echo "$0: needs $c (Debian packages hyperfine, busybox-static, aardvark-dns)" >&2; exit 2; }; done
tmp=$(mktemp -d /tmp/nsx-bench-dns-XXXXXX)
export NSX_ROOT=$tmp/store NSX_NETWORK=none
N="$REPO/bin/nsx"
cleanup() {
  ids=$("$N" ps -aq 2>/dev/null || true)
  [ -n "$ids" ] && "$N" rm -f $ids >/dev/null 2>&1 || true
  "$N" network prune -f >/dev/null 2>&1 || true
  [ -f "$tmp/hand/aardvark.pid" ] && kill "$(cat "$tmp/hand/aardvark.pid")" 2>/dev/null || true
  "$N" gc >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/bb/bin"
cp "$(command -v busybox)" "$tmp/bb/bin/busybox"
for a in sh true sleep; do ln -s busybox "$tmp/bb/bin/$a"; done
L="--layer $tmp/bb"
"$N" network create --subnet 10.99.30.0/24 withpeer >/dev/null
"$N" network create --subnet 10.99.31.0/24 alone >/dev/null
"$N" run --rm --network bridge $L -- /bin/true   # the bridges made once
"$N" run --rm --network alone $L -- /bin/true
"$N" run -d --name peer --network withpeer $L -- sleep 100000 >/dev/null

# The peer's part: netavark's commit and SIGHUP by hand on a server of its own (another address of lo, another directory).
ip addr add 127.0.0.20/8 dev lo
mkdir -p "$tmp/hand"
printf '127.0.0.20\n%s 127.0.0.21  peer\n' "$(printf 'a%.0s' $(seq 64))" > "$tmp/hand/net"
"$AARDVARK" --config "$tmp/hand" -p 53 run </dev/null >/dev/null 2>&1
cat > "$tmp/hup.sh" <<EOF
echo "\$(printf 'b%.0s' \$(seq 64)) 127.0.0.22  x" >> $tmp/hand/net
kill -HUP \$(cat $tmp/hand/aardvark.pid)
EOF
cat > "$tmp/hup-wait.sh" <<EOF
pid=\$(cat $tmp/hand/aardvark.pid)
old=\$(ls -l /proc/\$pid/fd | grep -o 'socket:\[[0-9]*\]' | sort | tr '\n' ' ')
sh $tmp/hup.sh
while :; do new=\$(ls -l /proc/\$pid/fd | grep -o 'socket:\[[0-9]*\]' | sort | tr '\n' ' '); inodes=\$(awk '\$2 ~ /:0035\$/ {print \$10}' /proc/\$pid/net/udp); for i in \$inodes; do case "\$new" in *"socket:[\$i]"*) case "\$old" in *"socket:[\$i]"*) ;; *) exit 0;; esac;; esac; done; sleep 0.005; done
EOF

echo "== nsx run --rm /bin/true: default bridge (no DNS) against a user-defined network (aardvark-dns), RUNS=$RUNS, load $(cut -d' ' -f1 /proc/loadavg) =="
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$tmp/h.json" \
  -n bridge "$N run --rm --network bridge $L -- /bin/true" \
  -n 'user network, a peer running' "$N run --rm --network withpeer $L -- /bin/true" \
  -n 'user network, alone (server started and stopped)' "$N run --rm --network alone $L -- /bin/true" \
  -n 'aardvark by hand: line + SIGHUP (netavark)' "sh $tmp/hup.sh" \
  -n 'aardvark by hand: line + SIGHUP + rebound' "sh $tmp/hup-wait.sh" >/dev/null
node -e '
const r = require(process.argv[1]).results
const ms = (x) => (x * 1000).toFixed(1)
const base = r[0].median
for (const x of r) console.log(`${x.command.padEnd(50)} median ${ms(x.median).padStart(7)} ms  mean ${ms(x.mean).padStart(7)} ms${x === r[0] || x.command.startsWith("aardvark") ? "" : `  (+${ms(x.median - base)} ms, ${(x.median / base).toFixed(2)}x)`}`)
' "$tmp/h.json"
