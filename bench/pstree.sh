#!/usr/bin/env bash
# nsx pstree against pstree -S -p (and -a), in the same run, on the host as it is and then
# loaded with about 1,000 processes in nested pid namespaces: GROUPS_N groups, each an
# unshare --pid --mount --uts --net with PER_GROUP sleepers and a nested pid namespace of
# NESTED sleepers. Needs root and hyperfine. Prints mean times, the cost per added process
# and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
GROUPS_N=${GROUPS_N:-50}
PER_GROUP=${PER_GROUP:-15}
NESTED=${NESTED:-3}
RUNS=${RUNS:-20}
. bench/lib.sh
bench_init pstree.sh dist/fast/pstree.cjs pstree psmisc

measure() { # label -> $tmp/$label.json, commands in this order: 0 nsx, 1 pstree, 2 nsx --json, 3 nsx -a, 4 pstree -a
  # -i: on a busy machine either tool may lose a race with an exiting process now and then.
  hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$tmp/$1.json" \
    "$NSX pstree" "pstree -S -p" "$NSX pstree --json" "$NSX pstree -a" "pstree -S -p -a" >/dev/null 2>&1
}

base_procs=$(nprocs)
measure base

inner="for i in \$(seq $NESTED); do sleep 100000 & done; wait"
for ((g = 0; g < GROUPS_N; g++)); do
  unshare --fork --kill-child=SIGKILL --pid --mount --uts --net \
    sh -c "for i in \$(seq $PER_GROUP); do sleep 100000 & done; unshare --fork --kill-child=SIGKILL --pid sh -c '$inner' & wait" &
  holders+=($!)
  disown $! # no "Killed" line from bash at cleanup
done
want=$((base_procs + GROUPS_N * (PER_GROUP + NESTED + 4)))
for _ in $(seq 200); do [ "$(nprocs)" -ge "$want" ] && break; sleep 0.05; done
load_procs=$(nprocs)
measure load

node - "$base_procs" "$load_procs" "$GROUPS_N" $(for l in base load; do for i in 0 1 2 3 4; do mean $l $i; done; done) <<'JS'
const [bp, lp, groups, ...m] = process.argv.slice(2).map(Number)
const [b, l] = [m.slice(0, 5), m.slice(5)]
const names = ['nsx pstree', 'pstree -S -p', 'nsx pstree --json', 'nsx pstree -a', 'pstree -S -p -a']
const ms = (s) => (s * 1000).toFixed(1).padStart(7) + ' ms'
const per = (i) => ((((l[i] - b[i]) / (lp - bp)) * 1e6).toFixed(1) + ' µs').padStart(9)
console.log(`processes: ${bp} without the load, ${lp} with it (${2 * groups} more pid namespaces)`)
names.forEach((n, i) => console.log(`${n.padEnd(18)}: ${ms(b[i])} -> ${ms(l[i])}  (${per(i)} per process)`))
console.log(`ratio nsx/pstree under load: ${(l[0] / l[1]).toFixed(2)}; with -a: ${(l[3] / l[4]).toFixed(2)} (below 1: nsx is faster)`)
const slope = (l[1] - b[1] - (l[0] - b[0])) / (lp - bp)
if (slope > 0) console.log(`same speed at about ${Math.round(bp + (b[0] - b[1]) / slope)} processes (at this per-process cost)`)
JS
