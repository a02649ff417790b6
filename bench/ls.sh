#!/usr/bin/env bash
# nsx ls --json against lsns -J, in the same run, on a host loaded with about 1,000
# processes in about 250 extra namespaces (GROUPS groups of one pid, mnt, uts, ipc and
# net namespace each, with PER_GROUP processes in each group). Needs root and hyperfine.
# Prints both tools' times without and with the load, the ratio, and the cost per process;
# node -e 0 runs in the same hyperfine run, as the floor of nsx's fixed cost.
set -euo pipefail
cd "$(dirname "$0")/.."
GROUPS_N=${GROUPS_N:-50}
PER_GROUP=${PER_GROUP:-19}
RUNS=${RUNS:-20}
. bench/lib.sh
bench_init ls.sh dist/fast/ls.cjs

measure() { # label -> mean seconds of each tool, in $tmp/$label.json
  # -i: on a busy machine either tool may lose a race with an exiting process now and then.
  hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$tmp/$1.json" "$NSX ls --json" "lsns -J" "node -e 0" >/dev/null 2>&1
}

base_procs=$(nprocs)
measure base

add_flat_load "$GROUPS_N" "$PER_GROUP"
load_procs=$(nprocs)
load_ns=$(lsns -J -l | grep -c '"ns":')
measure load

node - "$base_procs" "$load_procs" "$load_ns" "$(mean base 0)" "$(mean base 1)" "$(mean load 0)" "$(mean load 1)" "$(mean load 2)" <<'JS'
const [bp, lp, ns, nb, lb, nl, ll, node] = process.argv.slice(2).map(Number)
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
const per = (a, b) => (((b - a) / (lp - bp)) * 1e6).toFixed(1) + ' µs'
console.log(`processes: ${bp} without the load, ${lp} with it (${ns} namespaces)`)
console.log(`nsx ls --json : ${ms(nb)} -> ${ms(nl)}  (${per(nb, nl)} per process)`)
console.log(`lsns -J       : ${ms(lb)} -> ${ms(ll)}  (${per(lb, ll)} per process)`)
console.log(`node -e 0     : ${ms(node)} (Node's own start-up, part of nsx's fixed cost)`)
console.log(`ratio nsx/lsns under load: ${(nl / ll).toFixed(2)} (below 1: nsx is faster)`)
// Fixed costs differ (Node's start-up against a C binary): where the lines cross, if they do.
const slope = (ll - lb - (nl - nb)) / (lp - bp)
if (slope > 0) console.log(`same speed at about ${Math.round(bp + (nb - lb) / slope)} processes (at this per-process cost)`)
JS
