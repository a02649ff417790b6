#!/usr/bin/env bash
# nsx enter -t PID -a true against nsenter -t PID -a true and `node -e 0`, in one
# hyperfine run, into a target with its own pid, mnt, uts, ipc, net, cgroup and time
# namespaces. Prints each mean and the ratios; the target is nsx enter within 1.6x of
# node -e 0 (Node's own start-up is the floor; everything above it is ours).
# Needs root and hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
[ "$(id -u)" = 0 ] || { echo "bench/enter.sh: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/enter.sh: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
[ -f dist/src/enter/main.js ] && [ -x native/build/nsx-exec ] || { echo "bench/enter.sh: build first (npm run build)" >&2; exit 1; }

tmp=$(mktemp -d)
holder=
cleanup() {
  [ -n "$holder" ] && kill -KILL "$holder" 2>/dev/null && while kill -0 "$holder" 2>/dev/null; do sleep 0.05; done
  rm -rf "$tmp"
}
trap cleanup EXIT

unshare --fork --kill-child=SIGKILL --pid --mount-proc --mount --uts --ipc --net --cgroup --time sleep 100000 &
holder=$!
for _ in $(seq 100); do [ -s /proc/$holder/task/$holder/children ] && break; sleep 0.02; done
target=$(tr -d ' ' < /proc/$holder/task/$holder/children)

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/enter.json" \
  "node -e 0" "nsenter -t $target -a true" "node bin/nsx enter -t $target -a true"

node - "$tmp/enter.json" <<'JS'
// Wall time (mean, and median, which load from other processes skews less) and CPU time.
const r = require(process.argv[2]).results
const [node, nsenter, nsx] = r
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
const cpu = (x) => x.user + x.system
const row = (name, x) => console.log(`${name.padEnd(26)} mean ${ms(x.mean)}  median ${ms(x.median)}  cpu ${ms(cpu(x))}`)
console.log('')
row('node -e 0', node)
row('nsenter -t PID -a true', nsenter)
row('nsx enter -t PID -a true', nsx)
console.log(`nsx enter / node -e 0      mean ${(nsx.mean / node.mean).toFixed(2)}x  median ${(nsx.median / node.median).toFixed(2)}x  cpu ${(cpu(nsx) / cpu(node)).toFixed(2)}x  (target: <= 1.6x)`)
console.log(`nsx enter / nsenter        mean ${(nsx.mean / nsenter.mean).toFixed(1)}x`)
console.log(`above node's start-up      median ${ms(nsx.median - node.median)}  cpu ${ms(cpu(nsx) - cpu(node))}`)
JS
