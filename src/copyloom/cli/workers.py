"""Several server processes on one port, each with a listening socket of its own (``SO_REUSEPORT``).

Uvicorn's own ``--workers`` shares one socket between processes, and whichever process wakes first accepts the
connections that arrive together: a journey engine or a load balancer opens a few keep-alive connections at
once, and measured here one worker then served all of them while the other idled. With a socket per worker, the
kernel spreads connections across the workers by their addresses.

The supervisor reuses uvicorn's worker process (health pings, clean termination) and restarts a worker that dies
on the same socket, so connections hashed to it wait in its backlog instead of failing. It also gives the workers a
shared folder for Prometheus metrics (``PROMETHEUS_MULTIPROC_DIR``), so that ``/metrics`` reports all of them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Process

log = logging.getLogger("copyloom.serve")


def _metrics_dir() -> tuple[Path, bool]:
    """The folder the workers record metrics into, and whether it is ours to remove. An operator's folder
    (``PROMETHEUS_MULTIPROC_DIR`` already set) is emptied first: files of an earlier run would be counted again."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not given:
        return Path(tempfile.mkdtemp(prefix="copyloom-metrics-")), True
    folder = Path(given)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return folder, False


def supports_reuse_port() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def reuse_port_sockets(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """``count`` listening sockets on one address; with port 0, all of them share the port the first one got.

    They listen before any worker starts: a connection the kernel gives to a worker still starting waits in that
    socket's backlog, instead of the first worker up receiving every connection opened meanwhile."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            sock.listen(backlog)
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class _Worker(Process):
    """uvicorn's worker process, which also ends when the supervisor dies (SIGKILL, out of memory): without
    this, its workers would keep serving, unsupervised, and hold the port."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.supervisor_pid = os.getpid()

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover - runs in the child
        _die_with_parent(self.supervisor_pid)
        super().target(sockets)


def _die_with_parent(supervisor_pid: int) -> None:
    """Linux: ask for SIGTERM when the parent process ends (prctl PR_SET_PDEATHSIG); elsewhere do nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:  # an unusual libc: the supervisor still stops its workers on SIGINT/SIGTERM
        log.warning("could not load libc: workers will not stop by themselves if the supervisor is killed")
        return
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != supervisor_pid:  # the supervisor died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


class BalancedWorkers:
    """Run ``config.workers`` uvicorn processes, one socket each, until SIGINT or SIGTERM."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self.config = config
        self.sockets = sockets
        self.processes: list[Process] = []
        self.should_exit = threading.Event()

    def _start(self, sock: socket.socket) -> Process:
        process = _Worker(self.config, [sock])
        process.start()
        return process

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.should_exit.set())
        metrics_dir, owned = _metrics_dir()
        # Read by prometheus_client when a worker imports it: workers start after this, as fresh interpreters.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        self.processes = [self._start(sock) for sock in self.sockets]
        log.info("serving with %d worker processes", len(self.processes))
        try:
            while not self.should_exit.wait(0.5):
                self._keep_alive()
        finally:
            for process in self.processes:
                process.terminate()
            for process in self.processes:
                process.join()
            for sock in self.sockets:
                sock.close()
            if owned:
                shutil.rmtree(metrics_dir, ignore_errors=True)

    def _keep_alive(self) -> None:
        for index, process in enumerate(self.processes):
            if self.should_exit.is_set() or process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # dead or hung
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # The app cannot start (configuration, database): every restart would fail the same way.
                log.error("worker %s failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            log.warning("worker %s died (exit code %s); starting another", process.pid, process.exitcode)
            self.processes[index] = self._start(self.sockets[index])
