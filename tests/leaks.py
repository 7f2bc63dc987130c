"""Descriptor, thread and child-process growth per test module: warned, never failed.

Late in a full run the test process once held descriptors above 1024 and ``select()`` broke in an unrelated test.
Each module's growth (measured again after a garbage collection when it looks leaky, so that what is merely
unreferenced does not count) is warned about when it passes a threshold, listed at the end of the run (largest
first) and written to ``test-artifacts/leaks.tsv``. Loaded by the root conftest as a plugin."""

from __future__ import annotations

import gc
import os
import re
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# A module that keeps this many more descriptors or threads (or any child process) than it found is warned about.
# Threads below the threshold are the process-wide pools that grow on first use (decisions, campaign database
# work, the model loop): bounded, listed in the table but not warned about.
FD_THRESHOLD = 8
THREAD_THRESHOLD = 8
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


class LeakWarning(UserWarning):
    """A test module left descriptors, threads or child processes behind."""


@dataclass(frozen=True)
class Snapshot:
    fds: int
    top_fd: int
    threads: int
    children: int
    targets: dict[int, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def take() -> Snapshot:
        targets = _descriptors()
        return Snapshot(len(targets), max(targets, default=0), threading.active_count(), len(_children()), targets)


def _descriptors() -> dict[int, str]:
    """This process's open descriptors and what each is (a path, ``socket``, ``pipe``, ``anon_inode:...``)."""
    found: dict[int, str] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, closed since
            continue
        # Sockets and pipes without their inode, files by name (each test's tmp_path differs).
        found[int(name)] = re.sub(r":\[\d+\]$", "", target) if not target.startswith("/") else Path(target).name
    return found


def open_under(prefix: Path | str) -> list[str]:
    """The paths starting with ``prefix`` (a folder, or a file and its siblings) that this process holds open."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, closed since
            continue
        if target.startswith(str(prefix)):
            found.append(target)
    return found


def _children() -> set[int]:
    """Live (not zombie) child processes of this process but the resource tracker, from /proc (Linux; empty
    elsewhere)."""
    found: set[int] = set()
    task_dir = Path("/proc/self/task")
    if not task_dir.is_dir():
        return found
    for task in task_dir.iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z" and not _resource_tracker(pid):
                found.add(int(pid))
    return found


def _resource_tracker(pid: str) -> bool:
    """multiprocessing's resource tracker: started once by the first spawned pool and kept for the process."""
    try:
        return b"multiprocessing.resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass(frozen=True)
class Growth:
    module: str
    before: Snapshot
    after: Snapshot

    @property
    def fds(self) -> int:
        return self.after.fds - self.before.fds

    @property
    def threads(self) -> int:
        return self.after.threads - self.before.threads

    @property
    def children(self) -> int:
        return self.after.children - self.before.children

    def leaky(self) -> bool:
        return self.fds >= FD_THRESHOLD or self.threads >= THREAD_THRESHOLD or self.children > 0

    def kinds(self) -> str:
        """What the new descriptors are, most common first: ``socket x6, pipe x2``."""
        new = Counter(t for fd, t in self.after.targets.items() if self.before.targets.get(fd) != t)
        return ", ".join(f"{kind} x{n}" for kind, n in new.most_common(4))

    def describe(self) -> str:
        return (
            f"{self.module}: {self.fds:+d} descriptors ({self.after.fds} open, highest {self.after.top_fd}; "
            f"new: {self.kinds() or '-'}), {self.threads:+d} threads, {self.children:+d} child processes"
        )


_GROWTH: list[Growth] = []


@pytest.fixture(scope="module", autouse=True)
def _leak_watch(request: pytest.FixtureRequest) -> Iterator[None]:
    before = Snapshot.take()
    yield
    growth = Growth(request.node.nodeid, before, Snapshot.take())
    if growth.leaky():  # only then pay for a full collection (~0.2 s): what is merely unreferenced does not count
        gc.collect()
        growth = Growth(request.node.nodeid, before, Snapshot.take())
    _GROWTH.append(growth)
    if growth.leaky():
        warnings.warn(LeakWarning(growth.describe()), stacklevel=1)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _GROWTH:
        return
    ranked = sorted(_GROWTH, key=lambda g: (g.fds, g.children, g.threads), reverse=True)
    leaky = [g for g in ranked if g.leaky()]
    last = _GROWTH[-1].after
    terminalreporter.section("resource growth per module")
    terminalreporter.write_line(
        f"{len(leaky)} of {len(_GROWTH)} modules kept descriptors, threads or processes; at the end "
        f"{last.fds} descriptors open (highest {last.top_fd}), {last.threads} threads, {last.children} children"
    )
    for g in leaky[:15]:
        terminalreporter.write_line(g.describe())
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        lines = ["module\tfds\tthreads\tchildren\topen_after\thighest_fd_after\tnew_descriptors"]
        lines += [
            f"{g.module}\t{g.fds}\t{g.threads}\t{g.children}\t{g.after.fds}\t{g.after.top_fd}\t{g.kinds()}"
            for g in ranked
        ]
        (ARTIFACTS / "leaks.tsv").write_text("\n".join(lines) + "\n")
    except OSError as exc:  # a read-only checkout still gets the summary above
        terminalreporter.write_line(f"test-artifacts/leaks.tsv not written: {exc}")
