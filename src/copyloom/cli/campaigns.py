"""``copyloom campaigns …``: run a campaign's generation in the foreground (a worker), or show its progress."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from copyloom.cli._common import handle_errors, open_db

campaigns_app = typer.Typer(help="Work on campaigns.", no_args_is_help=True)


@campaigns_app.command("run")
@handle_errors
def run(campaign_id: Annotated[str, typer.Argument(help="The campaign id.")]) -> None:
    """Generate the campaign's pending targets; safe to run again after a crash, or on several workers."""
    from copyloom.content.campaigns import campaign_out, run_campaign
    from copyloom.content.engine import build_content_engine
    from copyloom.db import session_scope
    from copyloom.models import Campaign

    settings, factory = open_db()
    engine = build_content_engine(settings)
    run_campaign(engine, factory, campaign_id)
    with session_scope(factory) as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        progress = campaign_out(session, campaign.workspace_id, campaign_id).progress
    typer.echo(
        f"campaign {campaign_id}: {progress.done} done, {progress.suppressed} suppressed, "
        f"{progress.failed} failed of {progress.total}"
    )


@campaigns_app.command("status")
@handle_errors
def status(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
    workspace: Annotated[str, typer.Option(help="The campaign's workspace.")],
) -> None:
    from copyloom.content.campaigns import campaign_out
    from copyloom.db import session_scope

    _, factory = open_db()
    with session_scope(factory) as session:
        typer.echo(json.dumps(campaign_out(session, workspace, campaign_id).model_dump(mode="json"), indent=2))
