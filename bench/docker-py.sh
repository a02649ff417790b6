#!/bin/bash
# docker-py's own integration suite against nsx system service.
#
#   sudo bench/docker-py.sh PATH [FILE...]
#
# PATH is a checkout of docker-py at the tag of Debian's python3-docker (5.0.3), kept outside
# this repository (its code is not ours): e.g.
#   git clone https://github.com/docker/docker-py /work/docker-py && git -C /work/docker-py checkout 5.0.3
# FILE... narrows the run to some of tests/integration's files (default: all but swarm, services,
# nodes, plugins, secrets and configs, which need a swarm or plugins nsx does not have).
#
# A fresh store (NSX_ROOT in a temporary directory) gets a busybox-static root filesystem imported
# as the images the suite expects locally (alpine:3.10, alpine:latest, busybox:latest, busybox:buildroot-2014.02):
# the machine has no network beyond loopback, so Docker Hub is stood in for by Debian's
# docker-registry on loopback, named docker.io's mirror in a registries.conf the service reads
# (hello-world, alpine and busybox are pulled from it under their docker.io names). Each file runs
# on its own, each test with at most TEST_TIMEOUT seconds (default 60; pytest-timeout) and each file
# FILE_TIMEOUT (default 900), with Debian's python3 and
# pytest; a table of passed/failed/errors/skipped per file is printed at the end. Debian 12's
# setuptools routes `import distutils` to its own copy, whose Version classes warn on every use,
# and the suite's conftest turns every warning into an error (warnings.simplefilter('error')),
# so -W cannot help: the runner makes Python use the standard library's distutils
# (SETUPTOOLS_USE_DISTUTILS=stdlib, whose classes do not warn) and imports it, with its one
# import-time DeprecationWarning ignored, before pytest loads the conftest. The suite is not
# edited.
# The suite pins pytest 4.3.1 (test-requirements.txt); pytest 6.2 and later (Debian 12 has 7.2)
# turn an exception raised in a __del__ into a failure (the unraisableexception plugin). The
# models_* tests make clients they never close; their pooled keep-alive connections are freed
# at the test's end, and with Debian's urllib3 1.26 each unclosed socket raises ResourceWarning,
# an error under the conftest's filter, which holds only in the first test of a file (pytest
# restores the filters after each test): so the first test of models_containers, models_images,
# models_networks, models_resources and models_volumes failed, against any keep-alive server
# (a Python HTTP/1.1 server as much as dockerd's Go net/http). -p no:unraisableexception gives
# the pinned pytest's behaviour: the warning is printed, not counted as the test's failure.
set -euo pipefail

# The suite makes networks (bridges, NAT rules) whatever nsx's default: it runs in a network
# and mount namespace of its own, so the host's network and mount table are never touched.
if [ -z "${NSX_BENCH_OWN_NS:-}" ]; then
  exec env NSX_BENCH_OWN_NS=1 unshare --net --mount --propagation private -- "$0" "$@"
fi
ip link set lo up

if [ $# -lt 1 ] || [ ! -d "$1/tests/integration" ]; then
  echo "usage: $0 DOCKER-PY-CHECKOUT [FILE...]" >&2
  exit 2
fi
DPY=$(cd "$1" && pwd)
shift
REPO=$(cd "$(dirname "$0")/.." && pwd)
NSX=$REPO/bin/nsx
PY=/usr/bin/python3
FILE_TIMEOUT=${FILE_TIMEOUT:-900}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
for cmd in "$PY" /usr/bin/busybox tar; do
  [ -x "$(command -v "$cmd")" ] || { echo "$0: needs $cmd" >&2; exit 2; }
done
"$PY" -c 'import docker, pytest, paramiko, pytest_timeout' 2>/dev/null || { echo "$0: needs Debian's python3-docker, python3-pytest, python3-pytest-timeout and python3-paramiko" >&2; exit 2; }

WORK=$(mktemp -d /tmp/nsx-docker-py-XXXXXX)
export NSX_ROOT=$WORK/store
# docker's default network is its bridge, and the suite's network tests connect containers made
# without one: the default stays nsx's (bridge), which is safe here, in the run's own network namespace.
unset NSX_NETWORK
SVC_PID=
REG_PID=
cleanup() {
  [ -n "$SVC_PID" ] && kill "$SVC_PID" 2>/dev/null && wait "$SVC_PID" 2>/dev/null || true
  [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null || true
  ids=$("$NSX" ps -aq --no-trunc 2>/dev/null || true)
  [ -n "$ids" ] && "$NSX" rm -f -v $ids >/dev/null 2>&1 || true
  "$NSX" network prune -f >/dev/null 2>&1 || true
  "$NSX" volume prune -f >/dev/null 2>&1 || true
  "$NSX" gc >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The local images: busybox-static with every applet in alpine 3.10's base layout (alpine-baselayout
# 3.1: its directories, its users and groups, such as postgres, uid 70, which the exec tests use).
R=$WORK/rootfs
mkdir -p "$R"/{bin,sbin,lib,usr/bin,usr/sbin,usr/lib,usr/share,usr/local/bin,usr/local/lib,usr/local/share,etc,tmp,root,home,mnt,opt,srv,run,proc,sys,dev} \
  "$R"/media/{cdrom,floppy,usb} "$R"/var/{cache,empty,lib,local,lock/subsys,log,mail,opt,spool/cron/crontabs,tmp}
ln -s /run "$R/var/run"
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 700 "$R/root"
cp /usr/bin/busybox "$R/bin/busybox"
for a in $(/usr/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$R/bin/$a"; done
cat >"$R/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/ash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/spool/mail:/sbin/nologin
news:x:9:13:news:/usr/lib/news:/sbin/nologin
uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
man:x:13:15:man:/usr/man:/sbin/nologin
postmaster:x:14:12:postmaster:/var/spool/mail:/sbin/nologin
cron:x:16:16:cron:/var/spool/cron:/sbin/nologin
ftp:x:21:21::/var/lib/ftp:/sbin/nologin
sshd:x:22:22:sshd:/dev/null:/sbin/nologin
at:x:25:25:at:/var/spool/cron/atjobs:/sbin/nologin
squid:x:31:31:Squid:/var/cache/squid:/sbin/nologin
xfs:x:33:33:X Font Server:/etc/X11/fs:/sbin/nologin
games:x:35:35:games:/usr/games:/sbin/nologin
postgres:x:70:70::/var/lib/postgresql:/bin/sh
cyrus:x:85:12::/usr/cyrus:/sbin/nologin
vpopmail:x:89:89::/var/vpopmail:/sbin/nologin
ntp:x:123:123:NTP:/var/empty:/sbin/nologin
smmsp:x:209:209:smmsp:/var/spool/mqueue:/sbin/nologin
guest:x:405:100:guest:/dev/null:/sbin/nologin
nobody:x:65534:65534:nobody:/:/sbin/nologin
PASSWD
cat >"$R/etc/group" <<'GROUP'
root:x:0:root
bin:x:1:root,bin,daemon
daemon:x:2:root,bin,daemon
sys:x:3:root,bin,adm
adm:x:4:root,adm,daemon
tty:x:5:
disk:x:6:root,adm
lp:x:7:lp
mem:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:root
mail:x:12:mail
news:x:13:news
uucp:x:14:uucp
man:x:15:man
cron:x:16:cron
console:x:17:
audio:x:18:
cdrom:x:19:
dialout:x:20:root
ftp:x:21:
sshd:x:22:
input:x:23:
at:x:25:at
tape:x:26:root
video:x:27:root
netdev:x:28:
readproc:x:30:
squid:x:31:squid
xfs:x:33:xfs
kvm:x:34:kvm
games:x:35:
shadow:x:42:
postgres:x:70:
cdrw:x:80:
www-data:x:82:
usb:x:85:
vpopmail:x:89:
users:x:100:games
ntp:x:123:
nofiles:x:200:
smmsp:x:209:smmsp
locate:x:245:
abuild:x:300:
utmp:x:406:
ping:x:999:
nogroup:x:65533:
nobody:x:65534:
GROUP
tar -C "$R" -cf "$WORK/rootfs.tar" .
"$NSX" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$WORK/rootfs.tar" alpine:3.10 >/dev/null
for n in alpine:latest busybox:latest busybox:buildroot-2014.02; do "$NSX" tag alpine:3.10 "$n" >/dev/null; done

# --- Docker Hub's stand-in: a local registry as docker.io's mirror --------------------------
# The suite pulls hello-world, alpine and busybox from docker.io, which this machine cannot reach.
# Debian's docker-registry on a free loopback port (of this run's own network namespace) is given
# library/hello-world (a busybox root whose /hello prints docker's greeting), library/alpine
# (3.10 and latest) and library/busybox (latest), pushed by nsx from the stand-in images, and the
# service reads a registries.conf naming it docker.io's mirror (CONTAINERS_REGISTRIES_CONF), as
# a podman or skopeo user sets one up: pulls keep their docker.io names.
command -v docker-registry >/dev/null || { echo "$0: needs Debian's docker-registry" >&2; exit 2; }
REG_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$REG_PORT
mkdir -p "$WORK/registry"
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
  "$WORK/registry/data" "$REG" >"$WORK/registry/config.yml"
docker-registry serve "$WORK/registry/config.yml" 2>"$WORK/registry.log" &
REG_PID=$!
"$PY" -c '
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.05)
sys.exit(1)' "$REG" || { echo "$0: docker-registry did not start:" >&2; cat "$WORK/registry.log" >&2; exit 1; }
H=$WORK/hello-root
mkdir -p "$H/bin"
cp /usr/bin/busybox "$H/bin/busybox"
ln -s busybox "$H/bin/sh"
{
  echo '#!/bin/sh'
  echo 'echo'
  echo 'echo "Hello from Docker!"'
  echo 'echo "This message shows that your installation appears to be working correctly."'
  echo 'echo'
} >"$H/hello"
chmod 755 "$H/hello"
tar -C "$H" -cf "$WORK/hello.tar" .
"$NSX" import -c 'CMD ["/hello"]' "$WORK/hello.tar" hello-world:latest >/dev/null
"$NSX" push -q hello-world:latest "$REG/library/hello-world:latest" >/dev/null
"$NSX" rmi hello-world:latest >/dev/null
for n in alpine:3.10 alpine:latest busybox:latest; do "$NSX" push -q "$n" "$REG/library/$n" >/dev/null; done
printf '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "%s"\ninsecure = true\n' "$REG" >"$WORK/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf
# ---------------------------------------------------------------------------------------------

SOCK=$WORK/docker.sock
"$NSX" system service "unix://$SOCK" 2>"$WORK/service.log" &
SVC_PID=$!
for _ in $(seq 1 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "$0: the service did not start:" >&2; cat "$WORK/service.log" >&2; exit 1; }
export DOCKER_HOST=unix://$SOCK
# The suite's contexts and configs go to a directory of the run, not the user's ~/.docker.
export DOCKER_CONFIG=$WORK/docker-config HOME=$WORK/home
# The suite's tempfile.mkdtemp()s, which it does not all remove, go with the run's directory, not /tmp.
export TMPDIR=$WORK/tmp
mkdir -p "$DOCKER_CONFIG" "$HOME" "$TMPDIR"
echo '{}' >"$DOCKER_CONFIG/config.json" # else docker-py keeps its contexts in the checkout's working directory

EXCLUDED='api_swarm_test|api_service_test|api_plugin_test|api_secret_test|api_config_test|models_swarm_test|models_services_test|models_nodes_test'
if [ $# -gt 0 ]; then
  FILES=("$@")
else
  mapfile -t FILES < <(cd "$DPY" && ls tests/integration/*_test.py | grep -Ev "$EXCLUDED")
fi

RUNNER='
import sys, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import distutils.version, distutils.spawn
import pytest
sys.exit(pytest.main(sys.argv[1:]))
'
mkdir -p "$WORK/results"
for f in "${FILES[@]}"; do
  name=$(basename "$f" .py)
  echo "== $f" >&2
  (cd "$DPY" && SETUPTOOLS_USE_DISTUTILS=stdlib timeout -k 10 "$FILE_TIMEOUT" "$PY" -c "$RUNNER" -q -p no:cacheprovider -p no:unraisableexception --timeout="$TEST_TIMEOUT" \
    --junitxml="$WORK/results/$name.xml" "$f" >"$WORK/results/$name.log" 2>&1) || true
  tail -n 1 "$WORK/results/$name.log" >&2
done

"$PY" - "$WORK/results" "${FILES[@]}" <<'EOF'
import os, sys, xml.etree.ElementTree as ET
res, files = sys.argv[1], sys.argv[2:]
tot = [0, 0, 0, 0]
print(f"{'file':36} {'passed':>6} {'failed':>6} {'errors':>6} {'skipped':>7}")
for f in files:
    name = os.path.basename(f)[:-3]
    x = os.path.join(res, name + '.xml')
    if not os.path.exists(x):
        print(f"{name + '.py':36} {'(timed out or crashed)':>28}")
        continue
    s = ET.parse(x).getroot()
    s = s if s.tag == 'testsuite' else s.find('testsuite')
    t, fl, e, sk = (int(s.get(k, 0)) for k in ('tests', 'failures', 'errors', 'skipped'))
    p = t - fl - e - sk
    for i, v in enumerate((p, fl, e, sk)):
        tot[i] += v
    print(f"{name + '.py':36} {p:6} {fl:6} {e:6} {sk:7}")
print(f"{'total':36} {tot[0]:6} {tot[1]:6} {tot[2]:6} {tot[3]:7}")
EOF
if [ -n "${KEEP_LOGS:-}" ]; then cp -r "$WORK/results" "$KEEP_LOGS"; fi
