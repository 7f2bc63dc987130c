"""``copyloom serve`` and ``copyloom demo``."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from copyloom.cli.workers import BalancedWorkers, reuse_port_sockets, supports_reuse_port
from copyloom.config import get_settings
from copyloom.contracts.enums import Role
from copyloom.logs import configure_logging


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (one per core is typical).")] = 1,
) -> None:
    """Run the HTTP API with the current settings (migrations are applied on start)."""
    from copyloom.api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
        return
    if not settings.chroma_url:
        # A local Chroma store is not safe to share between processes (its own documentation says so).
        raise typer.BadParameter("--workers > 1 needs a Chroma server: set COPYLOOM_CHROMA_URL", param_hint="--workers")
    # Several processes need an import string; each builds its app from the same environment.
    # Migrations run first here, once, so that workers do not race to apply them.
    from copyloom.cli._common import open_db

    with open_db(settings):
        pass  # migrated; the workers open their own engines
    target = "copyloom.api.app:create_app"
    if not supports_reuse_port():
        uvicorn.run(target, factory=True, host=host, port=port, workers=workers, log_level="warning")
        return
    config = uvicorn.Config(target, factory=True, host=host, port=port, workers=workers, log_level="warning")
    try:
        sockets = reuse_port_sockets(host, port, workers, backlog=config.backlog)
    except OSError as exc:
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {exc.strerror}", param_hint="--port") from exc
    BalancedWorkers(config, sockets).run()


def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workspace: Annotated[str, typer.Option(help="Workspace to create for the demo brand.")] = "demo",
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the data and print keys, then exit.")] = False,
) -> None:
    """Create a demo workspace (Northwind Outfitters, English and Chinese customers), print its keys, serve."""
    from copyloom.cli._common import open_db
    from copyloom.db import write
    from copyloom.domain.demo import load_demo
    from copyloom.domain.workspaces import create_key, create_workspace
    from copyloom.models import Workspace

    with open_db() as (settings, factory):
        with write(factory) as session:
            if session.get(Workspace, workspace) is None:
                create_workspace(session, workspace, "Northwind Outfitters")
                summary = load_demo(session, workspace)
                typer.echo(
                    f"loaded demo brand into workspace {workspace!r}: {summary.customers} customers, "
                    f"{summary.products} products, {summary.offers} offers, {summary.orders} orders, "
                    f"{summary.events} events, {summary.notes} notes, {summary.consents} consent records"
                )
            else:
                typer.echo(f"workspace {workspace!r} exists; keeping its data")
            keys = {role: create_key(session, workspace, role, label="demo").key for role in Role}
        from copyloom.content.engine import build_content_engine
        from copyloom.retrieval.indexer import index_workspace

        engine = build_content_engine(settings)
        try:
            with write(factory) as session:
                report = index_workspace(session, engine.store, engine.embedder, workspace)
            generator = engine.generator.kind
        finally:
            engine.close()  # the server builds its own: let this one's embedder workers go
        typer.echo(f"indexed {report.embedded} new documents ({report.unchanged} unchanged) in {report.seconds:.1f} s")
    typer.echo(
        f"generator: {generator}" + (" (no model configured: set COPYLOOM_LLM_MODEL)" if generator == "offline" else "")
    )
    typer.echo("API keys (shown once):")
    for role, key in keys.items():
        typer.echo(f"  {role.value:<9} {key}")
    typer.echo(f"data directory: {settings.data_dir.resolve()}")
    _introduce(f"http://{host}:{port}", keys)
    if no_serve:
        return
    typer.echo(f"serving on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    serve(host=host, port=port)


def _introduce(base: str, keys: dict[Role, str]) -> None:
    """The demo's customers, where to review, and three requests ready to paste."""
    from copyloom.domain.demo import describe_demo_customers

    typer.echo("customers:")
    for c in describe_demo_customers():
        typer.echo(f"  {c.id:<6} {c.name:<14} {c.locale:<6} {'; '.join(c.special)}")
    typer.echo(f"review queue (sign in with the reviewer key): {base}/ui/")
    admin, marketer = keys[Role.ADMIN], keys[Role.MARKETER]
    body = '{"customer_id": "C1001", "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}, "variants": 2}'
    typer.echo("try:")
    typer.echo(f"  curl -H 'Authorization: Bearer {admin}' {base}/v1/customers/C1001")
    typer.echo(
        f"  curl -H 'Authorization: Bearer {marketer}' '{base}/v1/customers/C2001/facts?goal=cross_sell&channel=email'"
    )
    typer.echo(
        f"  curl -H 'Authorization: Bearer {marketer}' -H 'Content-Type: application/json' {base}/v1/drafts -d '{body}'"
    )
