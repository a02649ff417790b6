#!/usr/bin/env bash
# What a healthcheck costs, kept by the container's supervisor (native/ctr-health.c):
#   RSS:   the supervisor's VmRSS and Pss with a healthcheck probing every 100 ms, against the
#          supervisor of the same container without one (same run, same image);
#   CPU:   CPU time per probe, over WINDOW seconds (default 10): the supervisor's own utime+stime
#          and its reaped children's (the probes: cutime+cstime) from /proc/PID/stat, divided by
#          the probes recorded meanwhile (the health file polled every 10 ms, each new result counted);
#   time:  one probe's wall time (the executor with the probe's plan, as the supervisor runs it)
#          against `nsx exec C true` (a CLI per probe: what a timer-driven checker such as podman's
#          systemd timer running `podman healthcheck run` pays) and `runc exec` of a runc container
#          of the same root, in one hyperfine run.
# Needs root, hyperfine, runc, busybox (Debian packages of the same names).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-30}
WINDOW=${WINDOW:-10}
bench_init health.sh dist/src/container/health.js runc runc busybox busybox-static
export NSX_ROOT="$tmp/store"
finish() {
  finish_containers 'nsx-b-hc nsx-b-nohc' runc nsx-b-hc-runc
  bench_cleanup
}
trap finish EXIT
busybox_root "$tmp/root"

$NSX run -d --name nsx-b-nohc --layer "$tmp/root" -- sleep 100000 >/dev/null
$NSX run -d --name nsx-b-hc --health-cmd true --health-interval 100ms --layer "$tmp/root" -- sleep 100000 >/dev/null
sup() { $NSX container inspect -f '{{.Nsx.SupervisorPid}}' "$1"; }
dir=$($NSX container inspect -f '{{.Nsx.Dir}}' nsx-b-hc)
# Wait for a full log (5 results): the supervisor has run probes and holds its records.
for _ in $(seq 600); do [ "$(wc -l < "$dir/health" 2>/dev/null || echo 0)" -ge 6 ] && break; sleep 0.05; done

node - "$(sup nsx-b-hc)" "$(sup nsx-b-nohc)" "$dir/health" "$WINDOW" <<'EOF'
const fs = require('fs')
const [hc, nohc, file, window] = process.argv.slice(2)
const kb = (pid, key, f = 'status') => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/${f}`, 'utf8'))[1])
const cpu = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return [11, 12, 13, 14].reduce((s, i) => s + Number(f[i]), 0) * 10 }
const last = () => { const l = fs.readFileSync(file, 'utf8').trim().split('\n'); return l[l.length - 1] }
let probes = 0, prev = last()
const c0 = cpu(hc), t0 = Date.now()
const timer = setInterval(() => { const l = last(); if (l !== prev) { probes++; prev = l } }, 10)
setTimeout(() => {
  clearInterval(timer)
  const ms = cpu(hc) - c0
  console.log(`supervisor RSS: with a healthcheck ${kb(hc, 'VmRSS')} kB (Pss ${kb(hc, 'Pss', 'smaps_rollup')} kB), without ${kb(nohc, 'VmRSS')} kB (Pss ${kb(nohc, 'Pss', 'smaps_rollup')} kB)`)
  console.log(`CPU: ${probes} probes in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${ms} ms of CPU (supervisor and probes): ${(ms / probes).toFixed(2)} ms per probe`)
}, Number(window) * 1000)
EOF

# One probe, as the supervisor runs it: the executor with the probe's plan, the init's pid and start time filled in.
pids=$(cat "$(dirname "$dir/health")/pids")
init=$(echo "$pids" | cut -d' ' -f3)
start=$(echo "$pids" | cut -d' ' -f4)
node -e 'const a=require("fs").readFileSync(process.argv[1],"utf8").split("\0").slice(0,-1); a[2]=process.argv[2]; a[3]=process.argv[3]; require("fs").writeFileSync(process.argv[4], a.map(x=>JSON.stringify(x)).join(" "))' "$dir/health-probe" "$init" "$start" "$tmp/probe.args"
printf '#!/bin/sh\nexec %s %s >/dev/null 2>&1\n' "$PWD/native/build/nsx-exec" "$(cat "$tmp/probe.args" | sed 's/^"[^"]*" //')" > "$tmp/probe.sh"
chmod +x "$tmp/probe.sh"
runc_bundle "$tmp/bundle" "$tmp/root" '["sleep","100000"]'
runc run -d --bundle "$tmp/bundle" nsx-b-hc-runc >/dev/null 2>&1 </dev/null
"$tmp/probe.sh" && $NSX exec nsx-b-hc true && runc exec nsx-b-hc-runc /bin/true || { echo "bench/health.sh: a command failed" >&2; exit 1; }
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/probe.json" "$tmp/probe.sh" "$NSX exec nsx-b-hc true" "runc exec nsx-b-hc-runc /bin/true" >/dev/null
node -e '
const r = require(process.argv[1]).results, ms = (x) => `${(x.mean * 1000).toFixed(1)} ms ± ${(x.stddev * 1000).toFixed(1)}`
console.log(`one probe (the executor, as the supervisor runs it) ${ms(r[0])}; nsx exec C true ${ms(r[1])}; runc exec ${ms(r[2])}`)
console.log(`  nsx exec / probe: ${(r[1].mean / r[0].mean).toFixed(1)}x; runc exec / probe: ${(r[2].mean / r[0].mean).toFixed(1)}x`)' "$tmp/probe.json"
