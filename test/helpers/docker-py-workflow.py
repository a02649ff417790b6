"""docker-py (python3-docker) against nsx system service: the seeds' workflow, each result checked.

Run by test/integration/api-docker-py.test.ts with DOCKER_HOST set; prints one line per step and
"docker-py workflow: ok" at the end; any failed check raises (exit status 1).
"""
import os
import docker

client = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="auto", timeout=60)
assert client.ping() is True
v = client.version()
assert v["ApiVersion"] == "1.41", v
print("version", v["ApiVersion"], v["Version"])

# Foreground run: output comes back, the container is removed.
out = client.containers.run("busybox", ["sh", "-c", "echo out-line; echo err-line >&2"], remove=True, stderr=True)
assert b"out-line" in out and b"err-line" in out, out
print("run", out)

# Detached: logs, exec, inspect, labels, list filters, stop, wait, restart, remove.
c = client.containers.run("busybox", ["sh", "-c", "echo started; while true; do sleep 1; done"], detach=True, name="py-web", labels={"app": "py"})
c.reload()
assert c.status == "running", c.status
assert c.labels == {"app": "py"}, c.labels
assert [x.name for x in client.containers.list(filters={"label": "app=py"})] == ["py-web"]
assert client.containers.list(filters={"label": "app=nope"}) == []
for _ in range(100):
    if b"started" in c.logs():
        break
    import time
    time.sleep(0.1)
assert c.logs() == b"started\n", c.logs()
code, output = c.exec_run(["sh", "-c", "echo from-exec; exit 4"])
assert (code, output) == (4, b"from-exec\n"), (code, output)
code, output = c.exec_run(["cat", "/etc/hostname"], demux=True)
assert code == 0 and output[0], output
# A client slow to read the 101 head still gets all output: docker-py reads the head with a
# buffered reader and then the raw socket, so output sent with the head would be lost.
import json, socket, time
eid = client.api.exec_create(c.id, ["echo", "late-reader"])["Id"]
raw = socket.socket(socket.AF_UNIX)
raw.connect(os.environ["DOCKER_HOST"][len("unix://"):])
body = json.dumps({"Detach": False, "Tty": False})
raw.sendall((f"POST /v1.41/exec/{eid}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
time.sleep(0.5)
head = raw.recv(65536)
assert head.startswith(b"HTTP/1.1 101") and head.endswith(b"\r\n\r\n"), head
rest = b""
while True:
    chunk = raw.recv(4096)
    if not chunk:
        break
    rest += chunk
raw.close()
assert rest == b"\x01\x00\x00\x00\x00\x00\x00\x0clate-reader\n", rest
# exec with a terminal: the pty's output (\r\n), framed unless start asks for a raw stream (moby's rule).
api0 = client.api
eid = api0.exec_create(c.id, ["sh", "-c", "echo tty-out; echo tty-err >&2"], tty=True)["Id"]
assert api0.exec_start(eid, demux=True) == (b"tty-out\r\ntty-err\r\n", None)
code, output = c.exec_run(["sh", "-c", "echo raw"], tty=True)
assert (code, output) == (0, b"raw\r\n"), (code, output)
# exec resize: applied to the exec's terminal (a resize before the keys that follow it is in force).
eid = api0.exec_create(c.id, ["sh", "-c", "read x; stty size; read y; stty size"], stdin=True, tty=True)["Id"]
sock = api0.exec_start(eid, tty=True, socket=True)
raw = sock._sock if hasattr(sock, "_sock") else sock
raw.settimeout(30)
def read_until(want):
    got = b""
    while want not in got:
        chunk = raw.recv(4096)
        if not chunk:
            break
        got += chunk
    return got
api0.exec_resize(eid, height=30, width=100)
raw.sendall(b"a\n")
got = read_until(b"30 100")
api0.exec_resize(eid, height=40, width=120)
raw.sendall(b"b\n")
got += read_until(b"40 120")
assert b"30 100" in got and b"40 120" in got, got
sock.close()
# The detach keys (ctrl-p ctrl-q) end an exec's connection, with a terminal, and leave it running.
eid = api0.exec_create(c.id, ["cat"], stdin=True, tty=True)["Id"]
sock = api0.exec_start(eid, tty=True, socket=True)
raw = sock._sock if hasattr(sock, "_sock") else sock
raw.settimeout(30)
raw.sendall(b"\x10\x11")
while raw.recv(4096):
    pass
assert api0.exec_inspect(eid)["Running"] is True, api0.exec_inspect(eid)
sock.close()
print("exec tty, resize, detach keys: ok")
top = c.top()
assert "PID" in top["Titles"] and len(top["Processes"]) >= 1, top
# The container's own processes, not nsx's init (its PID 1, which docker's container lacks).
pids = [row[top["Titles"].index("PID")] for row in top["Processes"]]
assert str(c.attrs["State"]["Pid"]) not in pids, (c.attrs["State"]["Pid"], top)
assert any("echo started" in row[-1] for row in top["Processes"]), top
stats = c.stats(stream=False)
assert stats["memory_stats"]["usage"] > 0, stats
c.rename("py-web2")
c.reload()
assert c.name == "py-web2", c.name
c.pause()
c.reload()
assert c.status == "paused", c.status
c.unpause()
c.stop(timeout=1)
res = c.wait()
assert res["StatusCode"] == 143, res
c.reload()
assert c.status == "exited", c.status
c.restart(timeout=1)
c.reload()
assert c.status == "running", c.status
c.kill()
# kill (SIGKILL) returns once the container is gone, as moby's does.
c.reload()
assert c.status == "exited", c.status
assert c.wait()["StatusCode"] == 137
c.remove()
try:
    client.containers.get("py-web2")
    raise AssertionError("still there after remove")
except docker.errors.NotFound as e:
    print("removed:", e.explanation)

# Errors as docker-py raises them.
try:
    client.containers.get("no-such-container")
    raise AssertionError("no error")
except docker.errors.NotFound:
    pass
try:
    client.containers.run("no-such-image-anywhere:1", "true", detach=True)
    raise AssertionError("no error")
except (docker.errors.ImageNotFound, docker.errors.APIError):
    pass

# What create was given, as inspect shows it (docker's HostConfig and Config).
api = client.api
hc = api.create_host_config(cpu_shares=512, mem_limit="700M", memswap_limit="1G", mem_swappiness=40, tmpfs={"/tmp1": "size=3M"},
                            log_config={"Type": "json-file", "Config": {"max-file": "100"}})
cid = api.create_container("busybox", ["sleep", "60"], host_config=hc, stop_timeout=25)["Id"]
i = api.inspect_container(cid)
h = i["HostConfig"]
assert (h["CpuShares"], h["Memory"], h["MemorySwap"], h["MemorySwappiness"]) == (512, 700 * 1024 * 1024, 1024 ** 3, 40), h
assert h["Tmpfs"] == {"/tmp1": "size=3M"}, h["Tmpfs"]
assert h["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "100"}}, h["LogConfig"]
assert i["Config"]["StopTimeout"] == 25, i["Config"]
api.start(cid)
try:
    api.remove_container(cid)
    raise AssertionError("a running container was removed")
except docker.errors.APIError as e:
    assert e.status_code == 409 and "You cannot remove a running container" in e.explanation, e.explanation
api.remove_container(cid, force=True)

# Attach through the low-level API: a socket, framed output.
cid = api.create_container("busybox", ["sh", "-c", "echo attached-out"])["Id"]
sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1})
api.start(cid)
data = b""
raw = sock._sock if hasattr(sock, "_sock") else sock
while True:
    chunk = raw.recv(4096)
    if not chunk:
        break
    data += chunk
assert b"attached-out" in data, data
assert api.wait(cid)["StatusCode"] == 0
api.remove_container(cid)
assert client.containers.list(all=True) == [], client.containers.list(all=True)
pruned = client.containers.prune()
assert pruned["ContainersDeleted"] in (None, []), pruned
# attach with detach keys sent at once (before the service has reached the container's supervisor): the connection ends.
tid = api.create_container("busybox", "cat", stdin_open=True, tty=True)["Id"]
api.start(tid)
sock = api.attach_socket(tid, {"stdin": True, "stream": True, "detachKeys": "ctrl-x"})
raw = sock._sock if hasattr(sock, "_sock") else sock
raw.settimeout(30)
raw.sendall(b"\x18")
while raw.recv(4096):
    pass
sock.close()
assert api.inspect_container(tid)["State"]["Running"] is True
api.remove_container(tid, force=True)
# wait returns at the next exit even when the restart policy starts the container again.
rid = api.create_container("busybox", ["sleep", "1"], host_config=api.create_host_config(restart_policy={"Name": "always"}))["Id"]
api.start(rid)
assert api.wait(rid, timeout=60)["StatusCode"] == 0
try:
    api.remove_container(rid)
    raise AssertionError("a container with restart=always was removed without force")
except docker.errors.APIError as e:
    assert "You cannot remove" in e.explanation, e.explanation
api.remove_container(rid, force=True)
# prune: the exited ones go, with the space their writable layer took; a running one stays.
wrote = api.create_container("busybox", ["sh", "-c", "echo hello > /data.txt"])["Id"]
runs = api.create_container("busybox", ["sleep", "60"])["Id"]
api.start(wrote)
api.start(runs)
assert api.wait(wrote)["StatusCode"] == 0
pruned = api.prune_containers()
assert pruned["ContainersDeleted"] == [wrote] and pruned["SpaceReclaimed"] > 0, pruned
api.remove_container(runs, force=True)
print("docker-py workflow: ok")
