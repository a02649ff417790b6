#!/usr/bin/env bash
# Rootless networking's cost: `nsx run --rm /bin/true` as an ordinary user (uid 65534) with
# --network none, pasta, pasta publishing a port, and slirp4netns, in one hyperfine run.
# Prints each mean, median and CPU time, and the differences to none.
#
# Everything happens in a network and mount namespace this script makes (never the host's):
# an interface with a default route there (both stacks take the host's), and a device node of
# its own, mode 0666, bound over /dev/net/tun there (udev makes it so on Debian; this machine
# has it 0600). The peer, `podman run` as the same user, cannot run on this machine: podman
# 4.3.1 has no pasta (4.4 added it), its slirp4netns cannot open /dev/net/tun, and with the
# device open its crun refuses the hybrid cgroup layout ("cgroups in hybrid mode not
# supported"); as root its crun fails on setrlimit RLIMIT_NOFILE. So it is not in the run.
# Needs root, hyperfine, busybox, setpriv (util-linux), pasta (passt) and slirp4netns.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
bench_init rootless-net.sh dist/src/lifecycle/run.js busybox busybox-static setpriv util-linux pasta passt slirp4netns slirp4netns
RUNS=${RUNS:-20}
repo=$PWD
chmod 755 "$tmp"
user="$tmp/user"
mkdir -p "$user/l1/bin" "$user/l1/etc" "$user/l1/dev" "$user/l1/proc" "$user/l1/sys" "$user/l1/tmp"
cp "$(command -v busybox)" "$user/l1/bin/busybox"
for a in sh true cat; do ln -s busybox "$user/l1/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$user/l1/etc/passwd"
chown -R 65534:65534 "$user"

cat > "$tmp/inside.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
mknod -m 666 "$tmp/tun" c 10 200
mount --bind "$tmp/tun" /dev/net/tun
ip link set lo up
ip link add nsxb0 type veth peer name nsxb1
ip addr add 10.232.0.2/24 dev nsxb0
ip link set nsxb0 up
ip link set nsxb1 up
ip route add default via 10.232.0.1
U="setpriv --reuid=65534 --regid=65534 --clear-groups -- env -u NSX_NETWORK NSX_ROOT=$user/store HOME=$user NO_COLOR=1 node $repo/bin/nsx run --rm --layer $user/l1"
\$U --network pasta -- /bin/true
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/rootless.json" \\
  "\$U --network none -- /bin/true" "\$U --network pasta -- /bin/true" "\$U -p 127.0.0.1:18081:80 -- /bin/true" "\$U --network slirp4netns -- /bin/true"
EOF
echo "== nsx run --rm as uid 65534: --network none, pasta, pasta -p, slirp4netns (a network namespace of its own) =="
unshare -n -m --propagation private bash "$tmp/inside.sh"
node - "$tmp/rootless.json" <<'JS'
const [none, pasta, publish, slirp] = require(process.argv[2]).results
const ms = (s) => (s * 1000).toFixed(1) + ' ms'
for (const [n, x] of [['--network none', none], ['--network pasta', pasta], ['-p 127.0.0.1:18081:80 (pasta)', publish], ['--network slirp4netns', slirp]])
  console.log(`${n.padEnd(32)} mean ${ms(x.mean).padStart(9)}  median ${ms(x.median).padStart(9)}  user+sys ${ms(x.user + x.system).padStart(9)}`)
for (const [n, x] of [['pasta - none', pasta], ['pasta -p - none', publish], ['slirp4netns - none', slirp]])
  console.log(`${n.padEnd(32)} mean ${ms(x.mean - none.mean).padStart(9)}  median ${ms(x.median - none.median).padStart(9)}  ratio ${(x.mean / none.mean).toFixed(2)}x`)
console.log('podman run (the peer): cannot run on this machine (see the head of this script)')
JS
