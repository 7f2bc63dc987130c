"""A model server for tests and benchmarks, in its own process, speaking the OpenAI chat-completions wire.

It keeps connections alive, takes time (a latency distribution), counts what it sees (``/_stats``), answers 429
with ``Retry-After`` above a concurrency or a rate, runs scripted faults (5xx, hangs, resets, every malformed
answer) and writes copy from the facts in each prompt, with planted errors on request::

    from tests.modelserver import start_model_server

    with start_model_server(latency_ms=200, latency_jitter=0.3, max_concurrency=64) as server:
        settings = Settings(llm_model="openai:gpt-4o-mini", llm_base_url=server.base_url)
        ...
        server.configure(faults=[{"match": ["SubmitSmsVariants", "Emma"], "fault": "502", "times": 1}])
        assert server.stats()["max_in_flight"] <= 64

Options are the fields of ``tests.modelserver.config.ServerConfig``; ``python -m tests.modelserver --help``
lists them.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["ModelServer", "ModelServerError", "start_model_server"]

_ROOT = Path(__file__).resolve().parents[2]


class ModelServerError(RuntimeError):
    """The server did not start, or a control request failed."""


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


class ModelServer:
    """A running server process. ``base_url`` is what an OpenAI client takes (it ends in ``/v1``)."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, port: int) -> None:
        self.process = process
        self.base_url = base_url
        self.port = port
        self.root_url = base_url.removesuffix("/v1")
        self._http = httpx.Client(base_url=self.root_url, timeout=30.0)
        self._finalizer = weakref.finalize(self, _kill, process)

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, path, json=payload)
        if response.status_code != 200:
            raise ModelServerError(f"{method} {path}: HTTP {response.status_code} {response.text}")
        data: dict[str, Any] = response.json()
        return data

    def stats(self) -> dict[str, Any]:
        """Counters since start or the last ``reset()`` (see ``tests/modelserver/stats.py``)."""
        return self._call("GET", "/_stats")

    def configure(self, **options: Any) -> dict[str, Any]:
        """Change options at run time; returns the whole configuration. ``storm_s=5`` starts a 429 storm now."""
        return self._call("POST", "/_config", options)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/_config")

    def reset(self) -> dict[str, Any]:
        """Zero the counters (and the rate windows); the configuration stays."""
        return self._call("POST", "/_reset")

    def close(self) -> None:
        """Kill the server's process group (idempotent)."""
        self._http.close()
        self._finalizer()

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def start_model_server(
    *, host: str = "127.0.0.1", port: int = 0, ready_timeout_s: float = 60.0, **options: Any
) -> ModelServer:
    """Start ``python -m tests.modelserver`` in its own process group and wait until it listens.

    The process is killed when the returned server is closed (or used as a context manager), and in any case
    when it is garbage collected or the interpreter exits.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p)
    cmd = [sys.executable, "-m", "tests.modelserver", "--host", host, "--port", str(port)]
    if options:
        cmd += ["--config", json.dumps(options)]
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the child; closed below
    process = subprocess.Popen(cmd, cwd=_ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
    try:
        line = _ready_line(process, ready_timeout_s)
        info = json.loads(line)
        return ModelServer(process, info["base_url"], int(info["port"]))
    except BaseException as exc:
        _kill(process)
        stderr.seek(0)
        detail = stderr.read().decode("utf-8", "replace")[-4000:]
        if isinstance(exc, ModelServerError | ValueError | KeyError):
            raise ModelServerError(f"the model server did not start: {exc}\n{detail}") from exc
        raise
    finally:
        stderr.close()


def _ready_line(process: subprocess.Popen[bytes], timeout_s: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    buffer = b""
    fd = process.stdout.fileno()
    # A selector, not select.select: late in a long suite the pipe's descriptor can be above FD_SETSIZE (1024).
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ModelServerError(f"no ready line within {timeout_s}s")
            if selector.select(min(left, 0.5)):
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise ModelServerError(f"the process exited with {process.wait()}")
                buffer += chunk
    return buffer.split(b"\n", 1)[0].decode()
