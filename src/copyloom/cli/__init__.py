"""The command line: ``copyloom --help``."""

from __future__ import annotations

import typer

from copyloom.cli.admin import keys_app, workspaces_app
from copyloom.cli.campaigns import campaigns_app
from copyloom.cli.imports import import_app
from copyloom.cli.retrieval import facts, index
from copyloom.cli.server import demo, serve
from copyloom.cli.worker import worker

app = typer.Typer(help="copyloom: personalized marketing messages that are safe to send.", no_args_is_help=True)
app.add_typer(workspaces_app, name="workspaces")
app.add_typer(keys_app, name="keys")
app.add_typer(import_app, name="import")
app.add_typer(campaigns_app, name="campaigns")
app.command()(serve)
app.command()(demo)
app.command()(index)
app.command()(facts)
app.command()(worker)


def main() -> None:
    app()
