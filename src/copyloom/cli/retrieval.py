"""``copyloom index`` (embed what changed, with a progress bar) and ``copyloom facts`` (what a draft may use)."""

from __future__ import annotations

from typing import Annotated

import typer

from copyloom.cli._common import console, handle_errors, open_db, print_json, resolve_workspace
from copyloom.cli.progress import Phases
from copyloom.contracts.enums import Channel, Goal


@handle_errors
def index(
    workspace: Annotated[str | None, typer.Option(help="Workspace id; default: every workspace.")] = None,
) -> None:
    """Embed new or changed products, knowledge and notes; remove what was deleted."""
    from sqlalchemy import select

    from copyloom.db import write
    from copyloom.models import Workspace
    from copyloom.retrieval.indexer import index_workspace
    from copyloom.retrieval.services import build_retrieval

    with open_db() as (settings, factory):
        retrieval = build_retrieval(settings)
        try:
            with write(factory) as s:
                ids = [resolve_workspace(s, workspace).id] if workspace else list(s.scalars(select(Workspace.id)))
            for ws in ids:
                with Phases() as phases, write(factory) as s:

                    def progress(done: int, total: int, ws: str = ws, bar: Phases = phases) -> None:
                        bar.update("embed", f"embed {ws} ({total:,} docs)", done, total, unit="docs/s")

                    report = index_workspace(s, retrieval.store, retrieval.embedder, ws, progress=progress)
                console.print(
                    f"{ws}: {report.total} documents, {report.embedded} embedded, {report.unchanged} unchanged, "
                    f"{report.deleted} deleted in {report.seconds:.1f} s"
                )
        finally:
            retrieval.close()


@handle_errors
def facts(
    customer_id: Annotated[str, typer.Argument(help="The brand's customer id.")],
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    goal: Annotated[Goal, typer.Option(help="What the message is for.")],
    channel: Annotated[Channel, typer.Option()] = Channel.EMAIL,
    locale: Annotated[str | None, typer.Option()] = None,
    instructions: Annotated[str | None, typer.Option(help="The brief's free text.")] = None,
    token_budget: Annotated[int | None, typer.Option(help="Tokens the bundle may use; default: the service's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole bundle as JSON.")] = False,
) -> None:
    """Show the facts a draft for this customer would be grounded in, with their sources."""
    from copyloom.db import write
    from copyloom.domain.brief import Brief
    from copyloom.retrieval.budget import DEFAULT_TOKEN_BUDGET
    from copyloom.retrieval.bundle import build_bundle
    from copyloom.retrieval.services import build_retrieval

    with open_db() as (settings, factory):
        retrieval = build_retrieval(settings)
        with write(factory) as s:
            resolve_workspace(s, workspace)
            bundle = build_bundle(
                s,
                retrieval.store,
                retrieval.embedder,
                workspace_id=workspace,
                customer_external_id=customer_id,
                brief=Brief(goal=goal, instructions=instructions),
                channel=channel.value,
                locale=locale,
                token_budget=token_budget if token_budget is not None else DEFAULT_TOKEN_BUDGET,
            )
        retrieval.close()
    if as_json:
        print_json(bundle.model_dump(mode="json"))
        return
    typer.echo(
        f"{bundle.customer.external_id} · {bundle.goal} · {bundle.channel} · {bundle.locale} · "
        f"personalization {'on' if bundle.personalization_allowed else 'off'} · "
        f"{bundle.token_count}/{bundle.token_budget} tokens ({bundle.encoding})"
    )
    for f in bundle.facts:
        flags = ("*" if f.required else "") + ("!" if f.untrusted else "")
        typer.echo(f"{f.id}{flags}  {f.text}  <- {f.source.table}#{f.source.row_id}")
    for d in bundle.dropped:
        typer.echo(f"dropped {d.id}: {d.reason}")
    for n in bundle.notes:
        typer.echo(f"note: {n}")
