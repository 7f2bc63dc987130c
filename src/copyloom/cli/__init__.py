"""The command line: ``copyloom --help``.

Commands are loaded when they run, not when the program starts: the content engine, Chroma and LangChain take
seconds to import, and ``copyloom --help`` or ``copyloom keys create`` need none of them. The root group lists
every command from the table below (name, module, attribute, one-line help) and imports a command's module only
once it is invoked (or its own ``--help`` is asked for).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import typer
from typer.core import TyperGroup


class _Lazy(NamedTuple):
    module: str
    attribute: str  # a ``typer.Typer`` (a group of commands) or a plain function (one command)
    help: str


COMMANDS: dict[str, _Lazy] = {
    "workspaces": _Lazy("copyloom.cli.admin", "workspaces_app", "Create and list workspaces (one per brand)."),
    "keys": _Lazy("copyloom.cli.admin", "keys_app", "Create, list and revoke API keys."),
    "import": _Lazy("copyloom.cli.imports", "import_app", "Import first-party data files (CSV, NDJSON, JSON)."),
    "brand": _Lazy("copyloom.cli.brand", "brand_app", "Show or replace the workspace's brand kit."),
    "drafts": _Lazy("copyloom.cli.drafts", "drafts_app", "Ask for drafts for one customer, without a server."),
    "campaigns": _Lazy("copyloom.cli.campaigns", "campaigns_app", "Work on campaigns."),
    "serve": _Lazy("copyloom.cli.server", "serve", "Run the HTTP API (migrations are applied on start)."),
    "demo": _Lazy("copyloom.cli.server", "demo", "Load the demo brand, print its keys and customers, serve."),
    "index": _Lazy("copyloom.cli.retrieval", "index", "Embed new or changed products, knowledge and notes."),
    "facts": _Lazy("copyloom.cli.retrieval", "facts", "Show the facts a draft for a customer would use."),
    "worker": _Lazy("copyloom.cli.worker", "worker", "Run a Celery worker for campaign chunks (needs a broker)."),
}


def load_command(name: str) -> Any:
    """Import one command's module and build its click command."""
    spec = COMMANDS[name]
    target: Any = getattr(importlib.import_module(spec.module), spec.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = name
        return group
    single = typer.Typer()
    single.command(name)(target)
    return typer.main.get_command(single)


def _describe_only() -> None:
    """A stand-in's body: never run (``resolve_command`` swaps in the real command first)."""


class _LazyGroup(TyperGroup):
    """Lists commands from ``COMMANDS`` with their one-line help; imports a command only to run it.

    Context and command types are left as ``Any``: typer vendors its own click in some versions and not in others.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        # A stand-in that only describes itself: enough for the root --help listing.
        stub = typer.Typer()
        stub.command(cmd_name, help=spec.help, short_help=spec.help)(_describe_only)
        return typer.main.get_command(stub)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name in COMMANDS:
            command = load_command(name)
        return name, command, rest


app = typer.Typer(
    cls=_LazyGroup,
    help="copyloom: personalized marketing messages that are safe to send.",
    no_args_is_help=True,
)


@app.callback()
def _root() -> None:
    """copyloom: personalized marketing messages that are safe to send."""


def main() -> None:
    app()
