#!/usr/bin/env bash
# `exec true` into a running container: nsx exec against nsx enter NAME --privileged (nsenter's
# path, no restrictions), nsx enter -t PID, runc exec and crun exec, in one hyperfine run.
# Target: nsx exec within 1.3x of nsx enter.
#
# (bench/lifecycle.sh, from the lifecycle engineer, is where this belongs once it is on main.)
#
# crun refuses hybrid cgroup hosts, so its container is made and exec'd in a private mount
# namespace whose /sys/fs/cgroup is a cgroup2 mount alone, with crun's cgroup manager disabled
# (as bench/run.sh does); that hyperfine run has nsx and crun (runc exec fails there: its
# container's cgroups are not mounted), and nsx exec joins only the container's v2 cgroup (its v1
# freezer hierarchy is not mounted there). The host-namespace run has nsx and runc.
# Needs root, hyperfine, runc, crun and busybox (Debian packages hyperfine, runc, crun, busybox-static).
set -euo pipefail
export NSX_NETWORK=none # never a bridge on the host's network from a benchmark
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
[ "$(id -u)" = 0 ] || { echo "bench/exec.sh: needs root" >&2; exit 1; }
for c in hyperfine runc crun busybox; do
  command -v $c >/dev/null || { echo "bench/exec.sh: needs $c" >&2; exit 1; }
done
[ -f dist/fast/exec.cjs ] && [ -x native/build/nsx-exec ] || { echo "bench/exec.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
repo=$PWD
export NSX_ROOT="$tmp/store"
cleanup() {
  node bin/nsx stop -t 0 nsx-bench-exec >/dev/null 2>&1 || true
  runc delete -f nsx-bench-runc >/dev/null 2>&1 || true
  node bin/nsx gc >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/l1/bin" "$tmp/l1/etc" "$tmp/l1/dev" "$tmp/l1/proc" "$tmp/l1/sys" "$tmp/l1/tmp"
cp "$(command -v busybox)" "$tmp/l1/bin/busybox"
for a in sh true sleep; do ln -s busybox "$tmp/l1/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/l1/etc/passwd"
mkdir -p "$tmp/bundle/rootfs"
cp -a "$tmp/l1/." "$tmp/bundle/rootfs/"
(cd "$tmp/bundle" && runc spec)
node -e '
const f = process.argv[1], c = JSON.parse(require("fs").readFileSync(f))
c.process.terminal = false
c.process.args = ["/bin/sleep", "100000"]
delete c.process.rlimits
c.root.readonly = false
require("fs").writeFileSync(f, JSON.stringify(c))' "$tmp/bundle/config.json"

node bin/nsx run -d --name nsx-bench-exec --layer "$tmp/l1" -- sleep 100000 >/dev/null
pid=$(node bin/nsx ps --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).find(c=>c.name==="nsx-bench-exec").pid))')
runc run -d -b "$tmp/bundle" nsx-bench-runc >/dev/null 2>&1 </dev/null

EXEC="node $repo/bin/nsx exec nsx-bench-exec true"
ENTER="node $repo/bin/nsx enter --privileged nsx-bench-exec true"
ENTER_PID="node $repo/bin/nsx enter -t $pid -a true"
$EXEC && $ENTER && $ENTER_PID && runc exec nsx-bench-runc /bin/true || { echo "bench/exec.sh: a command failed" >&2; exit 1; }

echo "== host mount namespace (hybrid cgroups; crun cannot run here) =="
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/host.json" "$EXEC" "$ENTER" "$ENTER_PID" "runc exec nsx-bench-runc /bin/true"

cat > "$tmp/private.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
mount -t cgroup2 none /sys/fs/cgroup
crun --cgroup-manager=disabled run -d -b $tmp/bundle nsx-bench-crun >/dev/null </dev/null
trap 'crun --cgroup-manager=disabled delete -f nsx-bench-crun >/dev/null 2>&1 || true' EXIT
hyperfine -N --warmup 3 --runs $RUNS --export-json $tmp/private.json "$EXEC" "$ENTER" "$ENTER_PID" "crun --cgroup-manager=disabled exec nsx-bench-crun /bin/true"
EOF
echo "== private mount namespace, /sys/fs/cgroup the cgroup2 tree alone (crun's condition) =="
unshare -m --propagation private bash "$tmp/private.sh"

node -e '
const host = require(process.argv[1]).results, priv = require(process.argv[2]).results
const ms = (r) => `${(r.mean * 1000).toFixed(1)} ms (median ${(r.median * 1000).toFixed(1)})`
console.log("\nhost namespace:")
console.log(`  nsx exec ${ms(host[0])}; nsx enter NAME --privileged ${ms(host[1])}; nsx enter -t PID ${ms(host[2])}; runc exec ${ms(host[3])}`)
console.log(`  nsx exec / nsx enter --privileged: ${(host[0].mean / host[1].mean).toFixed(2)}x (target <= 1.3x); / runc exec: ${(host[0].mean / host[3].mean).toFixed(2)}x`)
console.log("cgroup2-only namespace:")
console.log(`  nsx exec ${ms(priv[0])}; nsx enter NAME --privileged ${ms(priv[1])}; nsx enter -t PID ${ms(priv[2])}; crun exec ${ms(priv[3])}`)
console.log(`  nsx exec / nsx enter --privileged: ${(priv[0].mean / priv[1].mean).toFixed(2)}x; / crun exec: ${(priv[0].mean / priv[3].mean).toFixed(2)}x`)
' "$tmp/host.json" "$tmp/private.json"
