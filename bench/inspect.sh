#!/usr/bin/env bash
# nsx inspect and nsx uidmap against what one would run by hand for the same facts, in the
# same run, on a container-like target (new user namespace with a written map, pid, mnt, uts,
# net, ipc, cgroup), on the host as it is and then loaded with about 1,000 processes
# (GROUPS_N groups of PER_GROUP sleepers): inspect scans /proc once for the share counts.
#   peers: lsns -p PID -J (namespaces and share counts only);
#          "by hand": lsns -p PID -J + cat status, cgroup, uid_map, gid_map + nsenter -u hostname;
#          for uidmap: cat uid_map gid_map setgroups (one level, no translation).
# Needs root and hyperfine. Prints means and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
GROUPS_N=${GROUPS_N:-50}
PER_GROUP=${PER_GROUP:-19}
RUNS=${RUNS:-20}
. bench/lib.sh
bench_init inspect.sh dist/fast/inspect.cjs

# The target: unshare forks sleep as pid 1 of the new pid namespace; the map is written from here.
unshare --fork --kill-child=SIGKILL -U -p -m -u -n -i -C --mount-proc sleep 100000 &
holders+=($!)
disown $!
outer=$!
for _ in $(seq 100); do [ -s /proc/$outer/task/$outer/children ] && break; sleep 0.05; done
target=$(cat /proc/$outer/task/$outer/children)
target=${target%% *}
echo '0 100000 65536' > /proc/$outer/uid_map
echo '0 100000 65536' > /proc/$outer/gid_map

by_hand="lsns -p $target -J; cat /proc/$target/status /proc/$target/cgroup /proc/$target/uid_map /proc/$target/gid_map; nsenter -t $target -U -u hostname"
measure() { # label -> $tmp/$label.json; order: 0 nsx inspect, 1 lsns -p, 2 by hand, 3 nsx uidmap, 4 cat maps
  hyperfine -N -i --warmup 3 --runs "$RUNS" --export-json "$tmp/$1.json" \
    "$NSX inspect $target --json" "lsns -p $target -J" "sh -c '$by_hand'" \
    "$NSX uidmap $target --uid 0 --json" "cat /proc/$target/uid_map /proc/$target/gid_map /proc/$target/setgroups" >/dev/null 2>&1
}

base_procs=$(nprocs)
measure base

add_flat_load "$GROUPS_N" "$PER_GROUP"
load_procs=$(nprocs)
measure load

node - "$base_procs" "$load_procs" $(for l in base load; do for i in 0 1 2 3 4; do mean $l $i; done; done) <<'JS'
const [bp, lp, ...m] = process.argv.slice(2).map(Number)
const [b, l] = [m.slice(0, 5), m.slice(5)]
const names = ['nsx inspect --json', 'lsns -p PID -J', 'by hand (lsns+cat+nsenter)', 'nsx uidmap --uid 0 --json', 'cat uid_map gid_map setgroups']
const ms = (s) => (s * 1000).toFixed(1).padStart(7) + ' ms'
console.log(`processes: ${bp} without the load, ${lp} with it`)
names.forEach((n, i) => console.log(`${n.padEnd(30)}: ${ms(b[i])} -> ${ms(l[i])}`))
const r = (a, c) => (a / c).toFixed(2)
console.log(`nsx inspect / lsns -p:  ${r(b[0], b[1])} -> ${r(l[0], l[1])}`)
console.log(`nsx inspect / by hand:  ${r(b[0], b[2])} -> ${r(l[0], l[2])}`)
console.log(`nsx uidmap / cat maps:  ${r(b[3], b[4])} -> ${r(l[3], l[4])}`)
JS
