"""``copyloom worker``: a Celery worker that runs campaign chunks, indexing and other background tasks."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import Annotated

import typer

from copyloom.cli._common import console


class Pool(StrEnum):
    prefork = "prefork"
    threads = "threads"
    solo = "solo"


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, help="Processes (prefork) or threads; default COPYLOOM_WORKER_CONCURRENCY or one per CPU."),
    ] = None,
    pool: Annotated[
        Pool | None,
        typer.Option(help="prefork (processes, the default), threads, or solo (one task at a time, in this process)."),
    ] = None,
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues to consume; default COPYLOOM_BROKER_QUEUE.")
    ] = None,
    loglevel: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING, …; default COPYLOOM_LOG_LEVEL.")] = None,
    hostname: Annotated[
        str | None, typer.Option(help="Node name, unique per worker (default copyloom-<pid>@<host>).")
    ] = None,
) -> None:
    """Run background tasks from the broker (COPYLOOM_BROKER_URL) until SIGTERM (finishes the running tasks)
    or SIGINT; a worker needs the database, the broker, the Chroma server and the model endpoint."""
    from copyloom.config import get_settings

    settings = get_settings()
    if settings.broker_url is None:
        console.print("[red]error[/red] broker_missing: set COPYLOOM_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
        raise typer.Exit(2)
    chosen = str(pool or settings.worker_pool)
    from copyloom.worker.main import worker_app  # imports Celery: only for this command

    # Options before "worker" are the celery command's own: --quiet drops the start-up banner, so that with JSON
    # logs the output is JSON lines only.
    argv = [*(["--quiet"] if settings.log_json else []), "worker"]
    argv += [
        f"--pool={chosen}",
        f"--queues={queues or settings.broker_queue}",
        f"--loglevel={(loglevel or settings.log_level).upper()}",
        f"--hostname={hostname or f'copyloom-{os.getpid()}@%h'}",
        "--without-mingle",  # no start-up chatter with the other workers: nothing here needs their state
    ]
    workers = concurrency or settings.worker_concurrency
    if workers is not None and chosen != "solo":
        argv.append(f"--concurrency={workers}")
    worker_app().worker_main(argv)
