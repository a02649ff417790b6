#!/usr/bin/env bash
# The container lifecycle against runc and crun, in one hyperfine run per verb:
#   start: a stopped container runs /bin/true to its end again. nsx start -a (on its kept
#          upper directory) against runc run and crun run of the same root (they have no
#          start of a stopped container: create + start + wait + delete is their equivalent),
#          and node -e 0 (Node's own start, which every nsx command pays).
#   stop:  a running container whose shell traps TERM (and exits at once) is stopped. nsx stop
#          against runc/crun kill TERM + waiting until the container's process is gone +
#          delete; and, as the floor, the same container's own exit under a plain kill -TERM
#          of its process (no runtime involved). Target: nsx stop under 50 ms beyond it.
# Each stop run is prepared by starting the container (hyperfine --prepare), not timed, and ready
# once its shell catches TERM (a runc container's shell is pid 1: a TERM before its trap is lost).
# crun refuses hybrid cgroup hosts: each crun call runs in a private mount namespace whose
# /sys/fs/cgroup is the cgroup2 tree alone, with its cgroup manager disabled (as in run.sh).
# BASELINE=DIR (another checkout, built) adds its nsx start -a and nsx stop to the same runs, on
# the same containers: a change's before and after, measured together.
# Needs root, hyperfine, runc, crun, busybox (Debian packages of the same names).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${RUNS:-20}
bench_init lifecycle.sh dist/src/lifecycle/start.js runc runc crun crun busybox busybox-static
repo=$PWD
export NSX_ROOT="$tmp/store"
finish() {
  finish_containers 'nsx-b-stop nsx-b-true nsx-b-own' runc nsx-b-runc "$tmp/crun" nsx-b-crun
  # hyperfine hides a failed command's stderr: the peers' scripts keep theirs here.
  [ -s "$tmp/why.err" ] && { echo "bench/lifecycle.sh: a timed command failed:" >&2; cat "$tmp/why.err" >&2; }
  bench_cleanup
}
trap finish EXIT

busybox_root "$tmp/root"
# The cooperative container: TERM ends it at once (the wait, unlike sleep, is interrupted by the trap).
TRAP='trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'

printf '%s\n' '#!/bin/sh' \
  'exec unshare -m sh -c '"'"'mount -t cgroup2 none /sys/fs/cgroup && exec crun --cgroup-manager=disabled "$@"'"'"' crun "$@"' > "$tmp/crun"
chmod +x "$tmp/crun"

runc_bundle "$tmp/true" "$tmp/root" '["/bin/true"]'
runc_bundle "$tmp/trap" "$tmp/root" "$(node -e 'console.log(JSON.stringify(["/bin/sh", "-c", process.argv[1]]))' "$TRAP")"

$NSX create --name nsx-b-true --layer "$tmp/root" -- /bin/true >/dev/null
$NSX start -a nsx-b-true
$NSX create --name nsx-b-stop --layer "$tmp/root" -- /bin/sh -c "$TRAP" >/dev/null

echo "== start of a stopped container (its command: /bin/true, waited for) =="
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/start.json" \
  "node $repo/bin/nsx start -a nsx-b-true" \
  "runc run -b $tmp/true nsx-b-runc" \
  "$tmp/crun run -b $tmp/true nsx-b-crun" \
  "node -e 0" \
  ${BASELINE:+"node $BASELINE/bin/nsx start -a nsx-b-true"}

# The peers' stop: kill TERM, wait for the container's process to go, delete. A container that
# did not start (no pid) or outlives the TERM by 10 s fails the run instead of spinning forever
# (an empty pid made the wait loop test /proc/ and never end).
cat > "$tmp/peer-stop.sh" <<'EOF'
#!/usr/bin/env bash
exec 2>>"${0%/*}/why.err"
rt=$1 id=$2
pid=$($rt state "$id" 2>/dev/null | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
if [ -z "$pid" ] || [ "$pid" = 0 ]; then echo "peer-stop: $rt: $id is not running" >&2; exit 1; fi
$rt kill "$id" TERM
end=$((SECONDS + 10))
while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do
  if [ $SECONDS -ge $end ]; then echo "peer-stop: $rt: $id still runs 10 s after TERM" >&2; $rt delete -f "$id" >/dev/null 2>&1; exit 1; fi
done
$rt delete -f "$id" >/dev/null
EOF
cat > "$tmp/peer-start.sh" <<'EOF'
#!/usr/bin/env bash
rt=$1 id=$2 b=$3
$rt delete -f "$id" >/dev/null 2>&1 || true
$rt run -d -b "$b" "$id" </dev/null >/dev/null 2>"$b/run.err" || { cat "$b/run.err" >&2; exit 1; }
# runc run -d returns once the shell is exec'd, maybe before it has run its trap: as the pid 1 of
# its pid namespace it ignores a TERM it does not catch, and the stop's wait would never end. So
# the run is ready when the shell catches TERM (bit 15 of SigCgt).
pid=$($rt state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
end=$((SECONDS + 10))
until caught=$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$pid/status 2>/dev/null) && [ -n "$caught" ] && [ $(( 0x$caught & 0x4000 )) -ne 0 ]; do
  if [ $SECONDS -ge $end ]; then echo "peer-start: $rt: $id's shell does not catch TERM 10 s after its start" >&2; exit 1; fi
  sleep 0.01
done
EOF
# The floor: the container's own exit after a TERM to its shell (no runtime involved).
cat > "$tmp/own-exit.sh" <<'EOF'
#!/usr/bin/env bash
exec 2>>"${0%/*}/why.err"
pid=$(cat "$1")
if [ -z "$pid" ]; then echo "own-exit: no pid" >&2; exit 1; fi
kill -TERM "$pid"
end=$((SECONDS + 10))
while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null; do
  if [ $SECONDS -ge $end ]; then echo "own-exit: $pid still runs 10 s after TERM" >&2; exit 1; fi
done
EOF
cat > "$tmp/own-start.sh" <<EOF
#!/usr/bin/env bash
exec 2>>"$tmp/why.err"
$NSX rm -f nsx-b-own >/dev/null 2>&1 || true
$NSX run -d --name nsx-b-own --layer "$tmp/root" -- /bin/sh -c '$TRAP' >/dev/null
init=\$($NSX ps --filter name=nsx-b-own --format '{{.Pid}}')
pid=\$(cat /proc/\$init/task/\$init/children | tr -d ' \n')
# Ready once the shell catches TERM (as the peers' runs are; see peer-start.sh).
end=\$((SECONDS + 10))
until caught=\$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/\$pid/status 2>/dev/null) && [ -n "\$caught" ] && [ \$(( 0x\$caught & 0x4000 )) -ne 0 ]; do
  if [ \$SECONDS -ge \$end ]; then echo "own-start: the shell does not catch TERM" >&2; exit 1; fi
  sleep 0.01
done
echo \$pid > "$tmp/own.pid"
EOF

echo "== stop of a container that traps TERM =="
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$tmp/stop.json" \
  --prepare "node $repo/bin/nsx start nsx-b-stop" "node $repo/bin/nsx stop nsx-b-stop" \
  --prepare "bash $tmp/peer-start.sh runc nsx-b-runc $tmp/trap" "bash $tmp/peer-stop.sh runc nsx-b-runc" \
  --prepare "bash $tmp/peer-start.sh $tmp/crun nsx-b-crun $tmp/trap" "bash $tmp/peer-stop.sh $tmp/crun nsx-b-crun" \
  --prepare "bash $tmp/own-start.sh" "bash $tmp/own-exit.sh $tmp/own.pid" \
  ${BASELINE:+--prepare "node $repo/bin/nsx start nsx-b-stop" "node $BASELINE/bin/nsx stop nsx-b-stop"}

ms() { node -e 'console.log((Number(process.argv[1]) * 1000).toFixed(1))' "$1"; }
ratio() { node -e 'console.log((Number(process.argv[1]) / Number(process.argv[2])).toFixed(2))' "$1" "$2"; }
diffms() { node -e 'console.log(((Number(process.argv[1]) - Number(process.argv[2])) * 1000).toFixed(1))' "$1" "$2"; }
s_nsx=$(mean start 0); s_runc=$(mean start 1); s_crun=$(mean start 2); s_node=$(mean start 3)
t_nsx=$(mean stop 0); t_runc=$(mean stop 1); t_crun=$(mean stop 2); t_own=$(mean stop 3)
echo
echo "start -a: nsx $(ms "$s_nsx") ms, runc run $(ms "$s_runc") ms ($(ratio "$s_nsx" "$s_runc")x), crun run $(ms "$s_crun") ms ($(ratio "$s_nsx" "$s_crun")x); node -e 0 $(ms "$s_node") ms, nsx beyond it $(diffms "$s_nsx" "$s_node") ms"
echo "stop:     nsx $(ms "$t_nsx") ms, runc kill+wait+delete $(ms "$t_runc") ms ($(ratio "$t_nsx" "$t_runc")x), crun $(ms "$t_crun") ms ($(ratio "$t_nsx" "$t_crun")x)"
echo "          the container's own exit after TERM: $(ms "$t_own") ms; nsx stop beyond it: $(diffms "$t_nsx" "$t_own") ms, beyond it and Node's start: $(diffms "$t_nsx" "$(node -e "console.log(Number(process.argv[1]) + Number(process.argv[2]))" "$t_own" "$s_node")") ms (target < 50 ms)"
if [ -n "${BASELINE:-}" ]; then
  s_base=$(mean start 4); t_base=$(mean stop 4)
  echo "BASELINE ($BASELINE): start -a $(ms "$s_base") ms (this checkout beyond it: $(diffms "$s_nsx" "$s_base") ms), stop $(ms "$t_base") ms (this checkout beyond it: $(diffms "$t_nsx" "$t_base") ms)"
  echo "  medians: start -a $(ms "$(median start 0)") ms, BASELINE $(ms "$(median start 4)") ms; stop $(ms "$(median stop 0)") ms, BASELINE $(ms "$(median stop 4)") ms; node -e 0 $(ms "$(median start 3)") ms"
fi
