#!/usr/bin/env bash
# nsx top against systemd-cgtop, in the same run, on a host with CGROUPS extra cgroups
# (PARENTS parents with children, made below this shell's own cgroup in every mounted
# hierarchy nsx top reads). Needs root, tmux and hyperfine; systemd-cgtop where installed.
# Prints, for each tool: its own CPU at a 1 s refresh over DURATION seconds from 2 s after
# launch, then over the STEADY seconds after that (in a tmux terminal, the interactive view),
# its peak RSS, the cost per cgroup per refresh, the time to the first screen, and the time
# of one batch snapshot (hyperfine); then the ratios.
# Targets for nsx top: <= 1% of one core, <= 80 MB RSS, <= 50 µs per cgroup, first screen <= 300 ms.
set -euo pipefail
export NSX_NETWORK=none # never a bridge on the host's network from a benchmark
cd "$(dirname "$0")/.."
CGROUPS=${CGROUPS:-500}
PARENTS=${PARENTS:-20}
DURATION=${DURATION:-30}
STEADY=${STEADY:-30}
# Idle processes to add to this shell's cgroup, for a process list as long as a busy host's
# (the dashboard selects the root cgroup at start, which holds them on a host like this one).
PROCS=${PROCS:-0}
NSX="node bin/nsx"
HZ=$(getconf CLK_TCK)
[ "$(id -u)" = 0 ] || { echo "bench/top.sh: needs root" >&2; exit 1; }
command -v tmux >/dev/null || { echo "bench/top.sh: needs tmux (Debian package tmux)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/top.sh: needs hyperfine (Debian package hyperfine)" >&2; exit 1; }
[ -f dist/commands/top.js ] || { echo "bench/top.sh: build first (npm run build)" >&2; exit 1; }
have_cgtop=0
command -v systemd-cgtop >/dev/null && have_cgtop=1

tmp=$(mktemp -d)
export TMUX_TMPDIR=$tmp
unset TMUX
sock=nsx-bench-$$
made=()
sleepers=()
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  ((${#sleepers[@]} == 0)) || kill "${sleepers[@]}" 2>/dev/null || true
  # Children before parents.
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do rmdir "${made[$i]}" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Our own cgroup in every hierarchy (v1 and cgroup2), from /proc/self/cgroup.
own_dirs() { node bench/top-own-cgroups.mjs; }

per_parent=$(((CGROUPS - PARENTS) / PARENTS))
for d in $(own_dirs); do
  top="$d/nsx-bench-$$"
  mkdir "$top" && made+=("$top")
  for ((p = 0; p < PARENTS; p++)); do
    mkdir "$top/p$p" && made+=("$top/p$p")
    for ((c = 0; c < per_parent; c++)); do mkdir "$top/p$p/c$c" && made+=("$top/p$p/c$c"); done
  done
done
echo "made $((PARENTS + PARENTS * per_parent + 1)) cgroups in each of $(own_dirs | wc -l) hierarchies"
for ((i = 0; i < PROCS; i++)); do
  sleep 100000 &
  sleepers+=($!)
done
((PROCS == 0)) || echo "started $PROCS idle processes in this shell's cgroup"

# One session lives for the whole run, so that the server does not exit (and race with the
# next new-session) each time a measured session ends.
tmux -L "$sock" new-session -d -s keeper -x 80 -y 24 "sleep 100000"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
pane_pid() { tmux -L "$sock" display-message -p -t "$1" '#{pane_pid}'; }

# Run a command in a tmux window: its CPU over DURATION seconds from 2 s after launch (what
# a user pays, JIT warm-up and V8's post-start collections included), then over the STEADY
# seconds after that (what it costs once warm); print "cpu_percent rss_mb pss_mb steady_percent".
watch_tool() { # name command...
  local name=$1
  shift
  tmux -L "$sock" new-session -d -s "$name" -x 200 -y 50 "exec $*"
  local pid
  pid=$(pane_pid "$name")
  sleep 2 # start-up is measured separately
  local t0 s0 t1 s1 t2 s2
  t0=$(ticks "$pid")
  s0=$(date +%s.%N)
  sleep "$DURATION"
  t1=$(ticks "$pid")
  s1=$(date +%s.%N)
  sleep "$STEADY"
  t2=$(ticks "$pid")
  s2=$(date +%s.%N)
  local rss pss
  rss=$(hwm_kb "$pid")
  # PSS counts shared pages (the node binary, libraries) by share: what this process costs.
  pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")
  tmux -L "$sock" kill-session -t "$name"
  node -e 'const [t0,t1,s0,s1,hz,rss,pss,t2,s2]=process.argv.slice(1).map(Number); console.log(((t1-t0)/hz/(s1-s0)*100).toFixed(2), (rss/1024).toFixed(1), (pss/1024).toFixed(1), ((t2-t1)/hz/(s2-s1)*100).toFixed(2))' "$t0" "$t1" "$s0" "$s1" "$HZ" "$rss" "$pss" "$t2" "$s2"
}

# Time from launch to the first screen showing the table (polled every 5 ms).
first_screen_ms() { # command...
  local best=""
  for run in 1 2 3 4 5; do
    local s="first$run"
    local t0
    t0=$(date +%s%N)
    tmux -L "$sock" new-session -d -s "$s" -x 200 -y 50 "exec $*"
    for _ in $(seq 2000); do
      if tmux -L "$sock" capture-pane -p -t "$s" 2>/dev/null | grep -q 'CGROUP\|Control Group'; then break; fi
      sleep 0.005
    done
    local t1
    t1=$(date +%s%N)
    tmux -L "$sock" kill-session -t "$s" 2>/dev/null
    echo $(((t1 - t0) / 1000000))
  done | sort -n | sed -n 3p # the median of five
}

export TERM=xterm-256color
read -r nsx_cpu nsx_rss nsx_pss nsx_steady < <(watch_tool nsx "$NSX top --delay 1")
nsx_first=$(first_screen_ms "$NSX top --delay 1")
collector=$(node bench/top-collector.mjs 100)
cgtop_cpu=- cgtop_rss=- cgtop_pss=- cgtop_steady=- cgtop_first=-
if [ $have_cgtop = 1 ]; then
  read -r cgtop_cpu cgtop_rss cgtop_pss cgtop_steady < <(watch_tool cgtop "systemd-cgtop --delay=1 --depth=20")
  cgtop_first=$(first_screen_ms "systemd-cgtop --delay=1 --depth=20")
  hyperfine -N --warmup 2 --runs 10 --export-json "$tmp/snap.json" \
    "$NSX top --batch --iterations 1 --delay 0.1" "systemd-cgtop --batch --iterations=2 --delay=0.1 --depth=20" >/dev/null
else
  hyperfine -N --warmup 2 --runs 10 --export-json "$tmp/snap.json" "$NSX top --batch --iterations 1 --delay 0.1" >/dev/null
fi

node - "$nsx_cpu" "$nsx_rss" "$nsx_first" "$cgtop_cpu" "$cgtop_rss" "$cgtop_first" "$collector" "$tmp/snap.json" "$DURATION" "$nsx_pss" "$cgtop_pss" "$nsx_steady" "$cgtop_steady" "$STEADY" <<'JS'
const [nc, nr, nf, cc, cr, cf, coll, snapFile, dur, np, cp, ns, cs, steady] = process.argv.slice(2)
const c = JSON.parse(coll)
const snap = JSON.parse(require('node:fs').readFileSync(snapFile, 'utf8')).results
const ok = (v, max) => (Number(v) <= max ? 'ok' : 'OVER TARGET')
console.log(`cgroups seen by nsx top: ${c.cgroups} rows over ${c.hierarchies.length} hierarchies (${c.hierarchies.join(' ')}), ${c.openFiles} control files kept open`)
console.log(`own CPU at a 1 s refresh over ${dur} s: nsx top ${nc}% of a core [${ok(nc, 1)}]   systemd-cgtop ${cc}%   (from 2 s after launch)`)
console.log(`  and over the ${steady} s after that:  nsx top ${ns}% [${ok(ns, 1)}]   systemd-cgtop ${cs}%   (warm)`)
console.log(`peak RSS:                           nsx top ${nr} MB [${ok(nr, 80)}]   systemd-cgtop ${cr} MB   (PSS at the end: ${np} MB and ${cp} MB)`)
console.log(`collector per cgroup per refresh:   batch (everything) ${c.usPerCgroupCpu} µs CPU, ${c.usPerCgroupWall} µs wall [${ok(c.usPerCgroupWall, 50)}] (${c.refreshMs} ms per refresh; first sample ${c.firstSampleMs} ms)`)
console.log(`                                    dashboard (40 rows on screen) ${c.dashboard.usPerCgroupCpu} µs CPU, ${c.dashboard.usPerCgroupWall} µs wall [${ok(c.dashboard.usPerCgroupWall, 50)}] (${c.dashboard.refreshMs} ms per refresh)`)
if (cc !== '-') console.log(`  systemd-cgtop, from its CPU: ${((Number(cc) / 100) * 1e6 / c.cgroups).toFixed(2)} µs per cgroup per refresh (CPU time per second / cgroups)`)
console.log(`first screen (median of 5, tmux poll): nsx top ${nf} ms [${ok(nf, 300)}]   systemd-cgtop ${cf} ms`)
console.log(`one batch snapshot (hyperfine, includes the 0.1 s delay): nsx top ${(snap[0].mean * 1000).toFixed(0)} ms` + (snap[1] ? `   systemd-cgtop ${(snap[1].mean * 1000).toFixed(0)} ms (2 iterations: its first has no CPU%)` : ''))
if (cc !== '-') console.log(`ratios nsx/cgtop: CPU ${(Number(nc) / Math.max(Number(cc), 0.01)).toFixed(2)}, RSS ${(Number(nr) / Number(cr)).toFixed(2)}, first screen ${(Number(nf) / Number(cf)).toFixed(2)}`)
JS
