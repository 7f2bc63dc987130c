"""``python -m tests.modelserver --port 0 [options]``: serve until killed; prints one JSON line when ready,
``{"base_url": "http://127.0.0.1:PORT/v1", "port": PORT, "pid": PID}``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from typing import Any

from tests.modelserver.app import ModelApp
from tests.modelserver.config import ConfigError, ServerConfig, updated
from tests.modelserver.httpserver import serve


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.modelserver", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--config", default=None, help="options as one JSON object (what POST /_config takes)")
    for name, field in ServerConfig.model_fields.items():
        if name in ("fault_rates", "faults", "plant_kinds", "models"):
            continue  # structured: through --config
        kind = float if field.annotation in (float, float | None) else int
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None, help=field.description)
    return p


def options(argv: list[str]) -> tuple[str, int, ServerConfig]:
    args = _parser().parse_args(argv)
    changes: dict[str, Any] = json.loads(args.config) if args.config else {}
    for name in ServerConfig.model_fields:
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    return args.host, args.port, updated(ServerConfig(), changes)


async def _main(host: str, port: int, config: ServerConfig) -> None:
    app = ModelApp(config)
    server = await serve(app.handle, host, port, app.connections)
    bound = server.sockets[0].getsockname()
    ready = {"base_url": f"http://{bound[0]}:{bound[1]}/v1", "port": bound[1], "pid": os.getpid()}
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    try:
        host, port, config = options(sys.argv[1:] if argv is None else argv)
    except ConfigError as exc:
        sys.stderr.write(f"modelserver: {exc}\n")
        return 2
    try:  # uvloop (a uvicorn[standard] dependency) cuts the per-request overhead when present
        import uvloop

        run: Any = uvloop.run
    except ImportError:
        run = asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        run(_main(host, port, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
