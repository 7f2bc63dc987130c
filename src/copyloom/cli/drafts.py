"""``copyloom drafts create``: drafts for one customer from the command line (no server, same pipeline)."""

from __future__ import annotations

from typing import Annotated

import typer

from copyloom.cli._common import handle_errors, open_db, print_json, resolve_workspace
from copyloom.contracts.enums import Channel, Goal

drafts_app = typer.Typer(help="Ask for drafts for one customer, without a server.", no_args_is_help=True)


@drafts_app.command("create")
@handle_errors
def create(
    customer_id: Annotated[str, typer.Argument(help="The brand's customer id.")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="The workspace (brand).")],
    goal: Annotated[Goal, typer.Option(help="What the message is for.")] = Goal.CROSS_SELL,
    channel: Annotated[list[Channel] | None, typer.Option(help="Channel (repeatable); default email.")] = None,
    variants: Annotated[int, typer.Option(min=1, max=5, help="Variants per channel.")] = 1,
    instructions: Annotated[str | None, typer.Option(help="The brief's free text.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole response (as POST /v1/drafts).")] = False,
) -> None:
    """Run the draft pipeline of ``POST /v1/drafts`` (consent gate, facts, generation, guardrails, review
    routing) for one customer and print each draft with its guardrail verdict, or why a channel was suppressed."""
    from copyloom.content.drafts.schemas import DraftRequest
    from copyloom.content.drafts.service import create_drafts
    from copyloom.content.engine import build_content_engine
    from copyloom.db import write
    from copyloom.domain.brief import Brief
    from copyloom.domain.imports import validate

    with open_db() as (settings, factory):
        with write(factory) as session:
            resolve_workspace(session, workspace)
        request = validate(
            DraftRequest,
            {
                "customer_id": customer_id,
                "channels": [c.value for c in channel or [Channel.EMAIL]],
                "brief": Brief(goal=goal, instructions=instructions).model_dump(),
                "variants": variants,
            },
        )
        engine = build_content_engine(settings)
        from copyloom.genai.loop import background_loop

        try:
            # The process's one model loop (its pooled connections live there), not a throwaway asyncio.run loop.
            response = background_loop().run(create_drafts(engine, factory, workspace, request, actor="cli"))
        finally:
            engine.close()
    if as_json:
        print_json(response.model_dump(mode="json"))
        return
    for draft in response.drafts:
        typer.echo(
            f"draft {draft.id} · {draft.channel.value} variant {draft.variant_index} · verdict {draft.verdict} · "
            f"{draft.status} · generator {draft.generator.kind}"
        )
        for key, value in draft.content.items():
            typer.echo(f"  {key}: {value}")
        for check in draft.guardrail_report.get("results", []):
            if isinstance(check, dict) and check.get("verdict") != "pass":
                typer.echo(f"  {check.get('verdict')} {check.get('check')}: {check.get('message')}")
    for s in response.suppressed:
        typer.echo(f"suppressed {s.channel.value}: {s.reason_code} ({s.message})")
    for e in response.errors:
        typer.echo(f"error {e.channel.value}: {e.code} ({e.message})", err=True)
