"""``copyloom serve --workers N``: one listening socket per worker, so connections spread across the workers."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from copyloom.cli.workers import reuse_port_sockets


def test_sockets_share_one_port_and_listen_before_any_worker_accepts() -> None:
    sockets = reuse_port_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in sockets}
        assert len(ports) == 1
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1 for s in sockets)
        # Nobody accepts yet, and a client still connects: it waits in a backlog, as for a worker still starting.
        with socket.create_connection(("127.0.0.1", ports.pop()), timeout=5):
            pass
    finally:
        for s in sockets:
            s.close()


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            reuse_port_sockets("127.0.0.1", taken.getsockname()[1], 2)


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        out |= {int(c) for c in (task / "children").read_text().split()}
    return out


def _workers(pid: int) -> set[int]:
    """The supervisor's worker processes (multiprocessing also starts a resource tracker, which is not one)."""
    return {c for c in _children(pid) if b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()}


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _established_inodes(port: int) -> set[int]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state, inode = int(fields[1].split(":")[1], 16), fields[3], int(fields[9])
        if local_port == port and state == "01":  # ESTABLISHED, server side
            inodes.add(inode)
    return inodes


def _get(port: int, path: str, timeout: float = 30) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _wait_until(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def _serve_two_workers(tmp_path: Path, **extra_env: str) -> tuple[subprocess.Popen[bytes], int]:
    """``copyloom serve --workers 2`` on a free port, in a session of its own; started, both workers up."""
    chroma_url = os.environ.get("COPYLOOM_TEST_CHROMA_URL")
    if not chroma_url:
        pytest.skip("COPYLOOM_TEST_CHROMA_URL is not set (.ci/run starts a Chroma server and sets it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_")}
    env |= {"COPYLOOM_DATA_DIR": str(tmp_path / "data"), "COPYLOOM_CHROMA_URL": chroma_url} | extra_env
    cli = [
        sys.executable,
        "-c",
        "from copyloom.cli import main; main()",
        "serve",
        "--workers",
        "2",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        # Each worker imports the app on its own: minutes, not seconds, on a machine busy with other work.
        _wait_until(lambda: len(_workers(server.pid)) == 2 and _get(port, "/healthz", timeout=5) == 200, 240)
    except BaseException:
        _kill_group(server)
        raise
    return server, port


def test_workers_share_connections_restart_when_killed_and_stop_on_sigterm(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"from an earlier run")
    server, port = _serve_two_workers(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    clients: list[http.client.HTTPConnection] = []
    try:
        workers = _workers(server.pid)

        # 16 keep-alive connections opened at once, as a journey engine's pool does: both workers get some.
        for _ in range(16):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/healthz")
            clients.append(conn)
        assert all(c.getresponse().read() == b'{"status":"ok"}' for c in clients)
        established = _established_inodes(port)
        served = {w: len(_socket_inodes(w) & established) for w in workers}
        assert sum(served.values()) == 16 and all(served.values()), served
        for c in clients:
            c.close()

        # Every worker records metrics into the shared folder, which starts empty; /metrics sums the workers.
        assert {p.name for p in metrics_dir.iterdir()} == {f"counter_{w}.db" for w in workers}
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/metrics")
        assert b"copyloom_model_cost_usd_total 0.0" in conn.getresponse().read()
        conn.close()

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        _wait_until(lambda: len(_workers(server.pid)) == 2 and victim not in _workers(server.pid), 60)
        for _ in range(8):  # whichever socket a connection lands on, somebody answers
            assert _get(port, "/healthz") == 200

        survivors = _workers(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0, server.stderr.read().decode() if server.stderr else ""
        assert not any(Path(f"/proc/{w}").exists() for w in survivors)
    finally:
        for c in clients:
            c.close()
        _kill_group(server)


def _kill_group(server: subprocess.Popen[bytes]) -> None:
    """Whatever happened, leave no process of this server behind (it runs in a session of its own)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def test_workers_end_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    server, _ = _serve_two_workers(tmp_path)
    try:
        workers = _workers(server.pid)
        server.kill()  # SIGKILL: no chance to stop its workers itself
        server.wait()
        _wait_until(lambda: not any(_alive(w) for w in workers), 60)
    finally:
        _kill_group(server)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper has finished)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
