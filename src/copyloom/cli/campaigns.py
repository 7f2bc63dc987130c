"""``copyloom campaigns …``: run a campaign's generation in the foreground (a worker), or show its progress."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from copyloom.cli._common import console, handle_errors, open_db

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from copyloom.content.campaigns.schemas import CampaignProgress

campaigns_app = typer.Typer(help="Work on campaigns.", no_args_is_help=True)


@campaigns_app.command("run")
@handle_errors
def run(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
    progress_bar: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Draft the campaign's unfinished customers in this process (chunks leased like any worker's); safe to run
    beside other workers, and again after a crash. Ctrl-C stops after the customers being drafted."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from copyloom.content.campaigns.service import campaign_out, run_campaign
    from copyloom.content.engine import build_content_engine
    from copyloom.db import read
    from copyloom.models import Campaign

    with open_db() as (settings, factory):
        engine = build_content_engine(settings)
        with read(factory) as session:
            campaign = session.get(Campaign, campaign_id)
            workspace = campaign.workspace_id if campaign is not None else ""
        stop = threading.Event()
        finished = threading.Event()

        def progress_now() -> CampaignProgress:
            with read(factory) as session:
                return campaign_out(session, workspace, campaign_id).progress

        def watch(bar: Progress, task_id: TaskID) -> None:
            while not finished.wait(1.0):
                p = progress_now()
                bar.update(
                    task_id,
                    completed=p.total - p.pending - p.leased,
                    total=p.total,
                    rate=f"{p.targets_per_s or 0:.1f}/s",
                    eta=f"{p.eta_s:.0f}s" if p.eta_s is not None else "—",
                    calls=p.model_calls,
                    cost=f"${p.cost_usd:.4f}",
                )

        bar = Progress(
            TextColumn(f"campaign {campaign_id[:8]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "{task.fields[rate]} eta {task.fields[eta]} · {task.fields[calls]} model calls · {task.fields[cost]}"
            ),
            TimeElapsedColumn(),
            console=console,
            disable=not progress_bar,
        )
        with bar:
            task_id = bar.add_task("drafting", total=None, rate="—", eta="—", calls=0, cost="$0")
            # The bar's poll reads the whole progress (several queries a second): without a bar nothing polls, the
            # drain itself ends when the campaign is finished.
            watcher = threading.Thread(target=watch, args=(bar, task_id), daemon=True) if progress_bar else None
            if watcher is not None:
                watcher.start()
            try:
                run_campaign(engine, factory, campaign_id, stop=stop)
            except KeyboardInterrupt:
                stop.set()
                console.print("stopping: the customers being drafted are stored, the rest stay pending")
            finally:
                finished.set()
                if watcher is not None:
                    watcher.join()
                engine.close()  # its model sessions, Chroma client and embedder workers
        p = progress_now()
        typer.echo(
            f"campaign {campaign_id}: {p.done} done, {p.suppressed} suppressed, "
            f"{p.failed} failed, {p.pending + p.leased} unfinished of {p.total}"
        )


@campaigns_app.command("status")
@handle_errors
def status(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
    workspace: Annotated[str, typer.Option(help="The campaign's workspace.")],
) -> None:
    from copyloom.content.campaigns.service import campaign_out
    from copyloom.db import write

    with open_db() as (_, factory), write(factory) as session:
        typer.echo(json.dumps(campaign_out(session, workspace, campaign_id).model_dump(mode="json"), indent=2))
