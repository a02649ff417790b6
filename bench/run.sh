#!/usr/bin/env bash
# nsx run --rm of /bin/true on a two-layer image, against runc run, crun run and bwrap on
# the same root filesystem (the two layers merged into one directory for them), and
# `node -e 0`, in one hyperfine run each. Prints means, medians and ratios. Targets: the
# whole nsx run within 1.8x of node -e 0; the native part (the executor's start to the
# exec, measured by running native/build/nsx-exec with nsx run's own plan) no slower
# than crun.
#
# crun refuses hybrid cgroup hosts (v1 controllers plus a unified tree with controllers),
# so the native comparison runs in a private mount namespace whose /sys/fs/cgroup is the
# cgroup2 tree alone, with crun's cgroup manager disabled (it cannot use the eBPF device
# controller without CAP_SYS_RESOURCE here). nsx still makes its cgroup there; crun makes none.
# Needs root, hyperfine, runc, crun and bubblewrap (Debian packages of the same names).
#
# Then networking's cost: `nsx run --rm` with --network none, bridge, and bridge with a
# published port, runc with CNI's bridge plugin by hand, and bare execs of the bridge and
# host-local plugins (the ADD chain's floor), in one hyperfine run inside a network namespace
# this script makes (never the host's); then the none/bridge pairs interleaved, round by round.
# `bench/run.sh network` runs that part alone; BASELINE=DIR (another checkout, built) adds its
# none and bridge runs to both, for a before/after in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
# Never a bridge on the host's network: only the network part asks for one, in its own namespace.
export NSX_NETWORK=none
[ "$(id -u)" = 0 ] || { echo "bench/run.sh: needs root" >&2; exit 1; }
for c in hyperfine runc crun bwrap busybox; do
  command -v $c >/dev/null || { echo "bench/run.sh: needs $c" >&2; exit 1; }
done
[ -f dist/src/lifecycle/run.js ] && [ -x native/build/nsx-exec ] || { echo "bench/run.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
cleanup() {
  NSX_ROOT="$tmp/store" node bin/nsx gc >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export NSX_ROOT="$tmp/store"
repo=$PWD

# Two layers: busybox and its applets; then a file and a changed /etc.
# Layer 1 has /dev, /proc and /sys as real images do (else nsx creates them in the upper directory).
mkdir -p "$tmp/l1/bin" "$tmp/l1/etc" "$tmp/l1/dev" "$tmp/l1/proc" "$tmp/l1/sys" "$tmp/l1/tmp" "$tmp/l2/etc"
cp "$(command -v busybox)" "$tmp/l1/bin/busybox"
for a in sh true cat; do ln -s busybox "$tmp/l1/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/l1/etc/passwd"
echo 'from layer 2' > "$tmp/l2/etc/motd"
mkdir -p "$tmp/bundle/rootfs"
cp -a "$tmp/l1/." "$tmp/bundle/rootfs/"
cp -a "$tmp/l2/." "$tmp/bundle/rootfs/"
(cd "$tmp/bundle" && runc spec)
node -e '
const f = process.argv[1], c = JSON.parse(require("fs").readFileSync(f))
c.process.terminal = false
c.process.args = ["/bin/true"]
delete c.process.rlimits
c.root.readonly = false
require("fs").writeFileSync(f, JSON.stringify(c))' "$tmp/bundle/config.json"

NSX="node $repo/bin/nsx run --rm --layer $tmp/l1 --layer $tmp/l2 -- /bin/true"

# The network part, in a network namespace of its own (lo up): nsx's bridge, NAT and port rules live there.
# The peer: runc run of the same root with its own empty network namespace, and with a namespace
# CNI made by hand around it (unshare --net=FILE, the bridge plugin's ADD with host-local, runc
# run joining it, DEL, umount): the same plugins on a bridge of their own, as a runc user runs them.
mkdir -p "$tmp/bundle-net"
node -e '
const [src, dst, ns] = process.argv.slice(1), c = JSON.parse(require("fs").readFileSync(src))
c.root.path = require("path").resolve(require("path").dirname(src), c.root.path)
c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === "network" ? {type: "network", path: ns} : n))
require("fs").writeFileSync(dst, JSON.stringify(c))' "$tmp/bundle/config.json" "$tmp/bundle-net/config.json" "$tmp/runc-netns"
cat > "$tmp/runc-cni.json" <<EOF
{"cniVersion": "1.0.0", "name": "runc-bench", "type": "bridge", "bridge": "nsx-rc0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
 "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.78.0.0/16", "gateway": "10.78.0.1"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$tmp/runc-ipam"}}
EOF
cat > "$tmp/runc-none.sh" <<EOF
#!/bin/sh
set -e
runc run -b "$tmp/bundle" nsx-bench-runc
EOF
cat > "$tmp/runc-cni.sh" <<EOF
#!/bin/sh
set -e
NS="$tmp/runc-netns"
: > "\$NS"
unshare --net="\$NS" true
export CNI_CONTAINERID=nsx-bench-runc-net CNI_NETNS="\$NS" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni
CNI_COMMAND=ADD /usr/lib/cni/bridge < "$tmp/runc-cni.json" > /dev/null
runc run -b "$tmp/bundle-net" nsx-bench-runc-net
CNI_COMMAND=DEL /usr/lib/cni/bridge < "$tmp/runc-cni.json" > /dev/null
umount "\$NS"
rm -f "\$NS"
EOF
cat > "$tmp/net-bench.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
ip link set lo up
R="node $repo/bin/nsx run --rm --layer $tmp/l1 --layer $tmp/l2"
\$R --network bridge -- /bin/true # the bridge and the network's rules, made once
B="node ${BASELINE:-$repo}/bin/nsx run --rm --layer $tmp/l1 --layer $tmp/l2"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/net.json" \\
  "\$R --network none -- /bin/true" "\$R --network bridge -- /bin/true" "\$R --network bridge -p 127.0.0.1:18080:80 -- /bin/true" \\
  "sh $tmp/runc-none.sh" "sh $tmp/runc-cni.sh" \\
  "env CNI_COMMAND=VERSION /usr/lib/cni/bridge" "env CNI_COMMAND=VERSION /usr/lib/cni/host-local" \\
  ${BASELINE:+\"\$B --network none -- /bin/true\" \"\$B --network bridge -- /bin/true\"}
# The same pairs again, interleaved (none, bridge, none, bridge, ...): on a shared machine whose
# load drifts between hyperfine's batches, each round's difference is the fairer figure.
node $tmp/pairs.js "$RUNS" "$tmp/pairs.json" "\$R --network none -- /bin/true" "\$R --network bridge -- /bin/true" "sh $tmp/runc-none.sh" "sh $tmp/runc-cni.sh" \\
  ${BASELINE:+\"\$B --network none -- /bin/true\" \"\$B --network bridge -- /bin/true\"}
EOF
cat > "$tmp/pairs.js" <<'JS'
// node pairs.js N OUT CMD...: run the commands in turn, N rounds; OUT gets each one's wall times (ms).
const {spawnSync} = require('child_process')
const [n, out, ...cmds] = process.argv.slice(2)
const times = cmds.map(() => [])
for (let r = 0; r < Number(n); r++)
  cmds.forEach((c, i) => {
    const [bin, ...args] = c.split(' ')
    const t0 = process.hrtime.bigint()
    const p = spawnSync(bin, args, {stdio: 'ignore'})
    if (p.status !== 0) throw new Error(`${c}: exit ${p.status}`)
    times[i].push(Number(process.hrtime.bigint() - t0) / 1e6)
  })
require('fs').writeFileSync(out, JSON.stringify(times))
JS
net_bench() {
  echo "== nsx run --rm: --network none against bridge; runc run against runc with CNI by hand (a network namespace of its own) =="
  unshare -n bash "$tmp/net-bench.sh"
  node - "$tmp/net.json" <<'JS'
const [none, bridge, publish, runc, runcCni, bridgeExec, hostLocalExec, baseNone, baseBridge] = require(process.argv[2]).results
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
for (const [n, x] of [['--network none', none], ['--network bridge', bridge], ['bridge -p 127.0.0.1:18080:80', publish], ['runc run (own netns)', runc], ['runc run, CNI bridge by hand', runcCni], ['bridge plugin, VERSION only', bridgeExec], ['host-local, VERSION only', hostLocalExec]])
  console.log(`${n.padEnd(30)} mean ${ms(x.mean).padStart(9)}  median ${ms(x.median).padStart(9)}  user+sys ${ms(x.user + x.system).padStart(9)}`)
console.log(`nsx bridge - none              mean ${ms(bridge.mean - none.mean).padStart(9)}  median ${ms(bridge.median - none.median).padStart(9)}  (target: < 25 ms)`)
console.log(`nsx bridge -p - none           mean ${ms(publish.mean - none.mean).padStart(9)}  median ${ms(publish.median - none.median).padStart(9)}`)
console.log(`runc CNI by hand - runc        mean ${ms(runcCni.mean - runc.mean).padStart(9)}  median ${ms(runcCni.median - runc.median).padStart(9)}`)
console.log(`(nsx bridge - none) / (runc CNI by hand - runc), medians: ${((bridge.median - none.median) / (runcCni.median - runc.median)).toFixed(2)}`)
// The floor of any ADD on CNI's bridge plugin: it execs host-local, so two Go programs start, doing nothing useful here.
console.log(`bare execs of bridge + host-local (the ADD chain's floor): median ${ms(bridgeExec.median + hostLocalExec.median).padStart(9)}`)
const pairs = require(process.argv[2].replace(/net\.json$/, 'pairs.json'))
const q = (a, p) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) * p)]
const diff = (a, b) => a.map((x, i) => b[i] - x)
for (const [n, [a, b]] of [['nsx bridge - none', [pairs[0], pairs[1]]], ['runc CNI by hand - runc', [pairs[2], pairs[3]]], ...(pairs[5] ? [['BASELINE bridge - none', [pairs[4], pairs[5]]]] : [])]) {
  const d = diff(a, b)
  console.log(`interleaved, per round: ${n.padEnd(24)} median ${ms(q(d, 0.5) / 1000).padStart(9)}  (p25 ${ms(q(d, 0.25) / 1000)}, p75 ${ms(q(d, 0.75) / 1000)}; ${d.length} rounds)`)
}
if (baseBridge) {
  console.log(`BASELINE none / bridge            median ${ms(baseNone.median).padStart(9)} / ${ms(baseBridge.median).padStart(9)}  user+sys ${ms(baseNone.user + baseNone.system)} / ${ms(baseBridge.user + baseBridge.system)}`)
  console.log(`BASELINE bridge - none         mean ${ms(baseBridge.mean - baseNone.mean).padStart(9)}  median ${ms(baseBridge.median - baseNone.median).padStart(9)}`)
}
JS
}
if [ "${1:-}" = network ]; then
  net_bench
  exit 0
fi
BWRAP="bwrap --bind $tmp/bundle/rootfs / --proc /proc --dev /dev --unshare-all --die-with-parent --new-session /bin/true"
$NSX || { echo "bench/run.sh: nsx run failed" >&2; exit 1; }

echo "== the whole command (host mount namespace, hybrid cgroups) =="
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/whole.json" \
  "node -e 0" "$NSX" "runc run -b $tmp/bundle nsx-bench-runc" "$BWRAP"

# The native part: nsx run's plan (from --dry-run --json), run by the executor directly;
# --prepare remakes the container directory and cgroups the supervisor removes each time.
cat > "$tmp/native.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
mapfile -d '' plan < "$tmp/plan.argv"
exec -a "nsx run" "$repo/native/build/nsx-exec" "\${plan[@]}"
EOF
cat > "$tmp/native-to-exec.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
mapfile -d '' plan < "$tmp/plan.argv.to-exec"
exec -a "nsx run" "$repo/native/build/nsx-exec" "\${plan[@]}"
EOF
cat > "$tmp/prepare.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
d=\$(cat $tmp/plan.argv.dir)
mkdir -p \$d/upper \$d/work \$d/rootfs
rm -rf \$d/upper/* \$d/work/*
printf 'PATH=/bin\0' > \$d/env
while IFS= read -r -d '' cg; do mkdir -p "\$cg"; done < "$tmp/cgroups.argv"
EOF
cat > "$tmp/native-bench.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
mount -t cgroup2 none /sys/fs/cgroup
node $repo/bin/nsx run --rm --dry-run --json --name nsx-bench --layer $tmp/l1 --layer $tmp/l2 -- /bin/true > $tmp/plan.json
node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1]))
const argv = j.steps.flatMap((s) => [s.op, ...s.args])
require("fs").writeFileSync(process.argv[2], argv.map((a) => a + "\0").join(""))
// The same plan without removing the container directory after the exit: from the start of
// the executor to the exec (the target), plus waiting and removing the cgroup.
const toExec = j.steps.filter((s) => s.op !== "ctr-cleanup-path").flatMap((s) => [s.op, ...s.args])
require("fs").writeFileSync(process.argv[2] + ".to-exec", toExec.map((a) => a + "\0").join(""))
// The container's directory (run/<id>, the id drawn by the dry run): prepare.sh remakes it.
require("fs").writeFileSync(process.argv[2] + ".dir", j.steps.find((s) => s.op === "ctr-cleanup-path").args[0])
const cg = j.steps.filter((s) => s.op === "ctr-cleanup-cgroup").map((s) => s.args[0] + "\0").join("")
require("fs").writeFileSync(process.argv[3], cg)' $tmp/plan.json $tmp/plan.argv $tmp/cgroups.argv
bash $tmp/prepare.sh
bash $tmp/native.sh || { echo "bench/run.sh: the native plan failed" >&2; exit 1; }
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/native.json" --prepare "bash $tmp/prepare.sh" \
  "bash -c 'exec crun --cgroup-manager=disabled run -b $tmp/bundle nsx-bench-crun'" "bash $tmp/native.sh" "bash $tmp/native-to-exec.sh" "bash -c 'exec $BWRAP'"
EOF
echo
echo "== the native part (private mount namespace, cgroup2 only) =="
unshare -m --propagation private bash "$tmp/native-bench.sh"

node - "$tmp/whole.json" "$tmp/native.json" <<'JS'
const [whole, native] = process.argv.slice(2).map((f) => require(f).results)
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
const row = (name, x) => console.log(`${name.padEnd(34)} mean ${ms(x.mean).padStart(9)}  median ${ms(x.median).padStart(9)}`)
const [node, nsx, runc, bwrap] = whole
console.log('\nwhole command')
row('node -e 0', node)
row('nsx run --rm (2 layers) /bin/true', nsx)
row('runc run /bin/true', runc)
row('bwrap --unshare-all /bin/true', bwrap)
console.log(`nsx run / node -e 0               mean ${(nsx.mean / node.mean).toFixed(2)}x  median ${(nsx.median / node.median).toFixed(2)}x  (target: <= 1.8x)`)
console.log(`nsx run / runc run                mean ${(nsx.mean / runc.mean).toFixed(2)}x`)
console.log(`nsx run / bwrap                   mean ${(nsx.mean / bwrap.mean).toFixed(2)}x`)
const [crun, exec, toExec, bw2] = native
console.log('\nnative part (each through bash -c exec, the same for all)')
row('crun run (no cgroup manager)', crun)
row('nsx-exec, nsx run\'s whole plan', exec)
row('nsx-exec, without the dir removal', toExec)
row('bwrap', bw2)
console.log(`nsx-exec start to exec / crun     mean ${(toExec.mean / crun.mean).toFixed(2)}x  median ${(toExec.median / crun.median).toFixed(2)}x  (target: <= 1.0x)`)
console.log(`nsx-exec whole plan / crun        mean ${(exec.mean / crun.mean).toFixed(2)}x  (after the exit it also removes the upper, work and state directory)`)
console.log(`nsx-exec whole plan / bwrap       mean ${(exec.mean / bw2.mean).toFixed(2)}x`)
JS

echo
net_bench
