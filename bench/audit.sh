#!/usr/bin/env bash
# nsx audit --format json (every workload of the host judged) against nsx ls --json, in the same
# hyperfine run, on a host loaded as bench/ls.sh loads it: about 1,000 processes in about 250
# extra namespaces (GROUPS_N groups of a pid, mnt, uts, ipc and net namespace each, PER_GROUP
# sleepers in each: each group is one hand-made workload to judge). Needs root and hyperfine.
# Target: nsx audit under 1.5x nsx ls --json.
set -euo pipefail
cd "$(dirname "$0")/.."
GROUPS_N=${GROUPS_N:-50}
PER_GROUP=${PER_GROUP:-19}
RUNS=${RUNS:-20}
. bench/lib.sh
bench_init audit.sh dist/fast/ls.cjs

add_flat_load "$GROUPS_N" "$PER_GROUP"
procs=$(nprocs)
ns=$(lsns -J -l | grep -c '"ns":')
workloads=$($NSX audit --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${r.summary.workloads} workloads, ${r.findings.length} findings`)})')
# -i: on a busy machine either tool may lose a race with an exiting process now and then.
hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$tmp/load.json" "$NSX audit --format json" "$NSX ls --json" "node -e 0" >/dev/null 2>&1

node - "$procs" "$ns" "$workloads" "$tmp/load.json" <<'JS'
const [procs, ns, workloads, file] = process.argv.slice(2)
const [audit, ls, node] = require(file).results
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
const cpu = (r) => r.user + r.system
console.log(`processes: ${procs} (${ns} namespaces); nsx audit saw ${workloads}`)
console.log(`                          mean wall    median     CPU (user+sys)`)
for (const [name, r] of [['nsx audit --format json', audit], ['nsx ls --json', ls], ['node -e 0', node]]) console.log(`${name.padEnd(25)} ${ms(r.mean).padStart(10)} ${ms(r.median).padStart(10)} ${ms(cpu(r)).padStart(10)}`)
// On a busy machine wall time swings with the load; CPU time is the steadier measure of the work.
console.log(`ratio audit/ls: ${(audit.mean / ls.mean).toFixed(2)} wall, ${(audit.median / ls.median).toFixed(2)} median, ${(cpu(audit) / cpu(ls)).toFixed(2)} CPU (target: under 1.50)`)
JS
