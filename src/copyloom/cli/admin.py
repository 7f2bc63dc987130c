"""``copyloom workspaces …`` and ``copyloom keys …``."""

from __future__ import annotations

from typing import Annotated

import typer

from copyloom.cli._common import handle_errors, open_db, print_json
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_key, create_workspace, list_keys, list_workspaces, revoke_key

workspaces_app = typer.Typer(help="Create and list workspaces (one per brand).", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@workspaces_app.command("create")
@handle_errors
def workspaces_create(
    workspace: Annotated[str, typer.Argument(help="Workspace id: lowercase letters, digits, '-' or '_'.")],
    name: Annotated[str | None, typer.Option(help="Display name (the brand).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    with open_db() as (_, factory), write(factory) as session:
        ws = create_workspace(session, workspace, name)
        result = {"workspace": ws.id, "name": ws.name}
    print_json(result) if as_json else typer.echo(f"created workspace {result['workspace']}")


@workspaces_app.command("list")
@handle_errors
def workspaces_list() -> None:
    with open_db() as (_, factory), write(factory) as session:
        for ws in list_workspaces(session):
            typer.echo(f"{ws.id}\t{ws.name}")


@keys_app.command("create")
@handle_errors
def keys_create(
    workspace: Annotated[str, typer.Option(help="The workspace the key belongs to.")],
    role: Annotated[Role, typer.Option(help="What the key may do.")],
    label: Annotated[
        str | None,
        typer.Option(
            help='Who holds the key: a person ("Dana Lee") or a system ("journey-orchestrator"); shown instead of '
            "the key id in the audit trail and on the review page (at most 200 characters).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"key": …} only.')] = False,
) -> None:
    with open_db() as (_, factory), write(factory) as session:
        issued = create_key(session, workspace, role, label)
    if as_json:
        print_json({"key": issued.key, "key_id": issued.key_id, "workspace": workspace, "role": role.value})
    else:
        typer.echo(issued.key)
        typer.echo(f"(id {issued.key_id}; shown once: store it now)", err=True)


@keys_app.command("list")
@handle_errors
def keys_list(workspace: Annotated[str, typer.Option(help="The workspace.")]) -> None:
    with open_db() as (_, factory), write(factory) as session:
        for k in list_keys(session, workspace):
            state = "revoked" if k.revoked_at else "active"
            typer.echo(f"{k.id}\t{k.prefix}…\t{k.role}\t{state}\t{k.label or ''}")


@keys_app.command("revoke")
@handle_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id or the key's first 10 characters.")],
) -> None:
    with open_db() as (_, factory), write(factory) as session:
        row = revoke_key(session, key_id)
        typer.echo(f"revoked {row.id}")
