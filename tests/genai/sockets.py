"""What a test needs to see a leaked HTTP client: this process's TCP connections to a port (Linux ``/proc``), and
the "Unclosed …" / "unclosed transport" reports that aiohttp and asyncio make when one is collected."""

from __future__ import annotations

import gc
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["HAS_PROC", "connections_to", "unclosed_reports"]

HAS_PROC = Path("/proc/self/fd").is_dir() and Path("/proc/net/tcp").exists()


def _socket_inodes() -> set[int]:
    inodes = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed since listdir
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def connections_to(port: int) -> int:
    """This process's TCP sockets whose remote end is ``port`` (any state but closed: a socket not yet closed by
    its owner counts, even once the server has hung up)."""
    mine = _socket_inodes()
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port, inode = int(fields[2].rsplit(":", 1)[1], 16), int(fields[9])
            if remote_port == port and inode in mine:
                count += 1
    return count


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def unclosed_reports() -> Iterator[list[str]]:
    """Every ResourceWarning and every asyncio exception-handler message ("Unclosed client session" …) emitted in
    the block and by a garbage collection at its end, as text."""
    handler = _Collect()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    found: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            yield found
            gc.collect()
    finally:
        logger.removeHandler(handler)
    texts = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] + handler.messages
    found.extend(t for t in texts if "unclosed" in t.lower())
