#!/usr/bin/env bash
# nsx top's per-container network bytes: what they add to a refresh, per container, against
# top without them, and against the earlier way (each container's /proc/PID/net/dev).
# COUNT containers on a bridge network, in a network and mount namespace this script makes
# (never the host's network), sampled by bench/top-net.mjs. Needs root and busybox-static.
# Target: <= 50 µs per container per refresh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
COUNT=${COUNT:-50}
REFRESHES=${REFRESHES:-200}
repo=$PWD
bench_init top-net.sh dist/src/network/traffic.js busybox busybox-static unshare util-linux ip iproute2
mkdir -p "$tmp/layer/bin" "$tmp/layer/etc"
cp "$(command -v busybox)" "$tmp/layer/bin/busybox"
ln -s busybox "$tmp/layer/bin/sleep"
echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/layer/etc/passwd"
cat > "$tmp/inner.sh" <<IN
#!/usr/bin/env bash
set -euo pipefail
ip link set lo up
export NSX_ROOT=$tmp/store NSX_NETWORK=
N="node $repo/bin/nsx"
cleanup() { ids=\$(\$N ps -aq); [ -z "\$ids" ] || \$N rm -f \$ids >/dev/null; \$N gc >/dev/null 2>&1 || true; }
trap cleanup EXIT
\$N network create --subnet 10.76.0.0/16 topnet >/dev/null
for i in \$(seq $COUNT); do \$N run -d --name topnet\$i --network topnet --layer $tmp/layer -- sleep 100000 >/dev/null; done
pids=\$(\$N ps --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).map((c) => c.pid + ":" + c.id).join(" "))')
node $repo/bench/top-net.mjs $tmp/store $REFRESHES \$pids > $tmp/out.json
IN
echo "== nsx top: network bytes of $COUNT bridge containers (a network namespace of its own) =="
unshare --net --mount --propagation private bash "$tmp/inner.sh"
node - "$tmp/out.json" <<'JS'
const r = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'))
const ok = (v, max) => (v <= max ? 'ok' : 'OVER TARGET')
console.log(`containers ${r.containers} (${r.containersWithCounters} with counters), ${r.cgroupRows} cgroup rows`)
console.log(`one refresh, CPU time (median of 20 rounds): ${r.refreshMsWithout} ms without network bytes, ${r.refreshMsWith} ms with`)
console.log(`network bytes, per container per refresh: ${r.usPerContainer} µs of CPU added to the refresh [${ok(r.usPerContainer, 50)}]; the reader alone ${r.readerUsPerContainer} µs`)
console.log(`the earlier way, each container's /proc/PID/net/dev: ${r.procNetDevUsPerContainer} µs per container (ratio ${(r.procNetDevUsPerContainer / Math.max(r.readerUsPerContainer, 0.01)).toFixed(1)}x the reader)`)
JS
