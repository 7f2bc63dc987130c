"""``copyloom brand put FILE`` and ``copyloom brand show``: the brand kit, as ``PUT /v1/brand`` takes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from copyloom.cli._common import handle_errors, open_db, print_json, resolve_workspace

brand_app = typer.Typer(help="Show or replace the workspace's brand kit.", no_args_is_help=True)
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="The workspace (brand).")]


@brand_app.command("put")
@handle_errors
def put(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The brand kit as JSON (the PUT body).")
    ],
    workspace: WorkspaceOpt,
) -> None:
    """Replace the brand kit with FILE: the same JSON as ``PUT /v1/brand`` (see examples/brand.json)."""
    from copyloom.contracts.brand import BrandKitSpec
    from copyloom.db import write
    from copyloom.domain.brand import save_brand_kit
    from copyloom.domain.imports import validate
    from copyloom.errors import InvalidInput

    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{file.name} is not JSON: {exc}", code="invalid_json", field="file") from exc
    spec = validate(BrandKitSpec, payload)
    with open_db() as (_, factory), write(factory) as session:
        resolve_workspace(session, workspace)
        outcome = save_brand_kit(session, workspace, spec)
    typer.echo(f"brand kit {spec.name!r}: {outcome}")


@brand_app.command("show")
@handle_errors
def show(workspace: WorkspaceOpt) -> None:
    """Print the brand kit as JSON."""
    from copyloom.db import write
    from copyloom.domain.brand import get_brand_kit

    with open_db() as (_, factory), write(factory) as session:
        resolve_workspace(session, workspace)
        print_json(get_brand_kit(session, workspace).model_dump(mode="json"))
