"""``copyloom serve`` and ``copyloom demo``."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from copyloom.config import get_settings
from copyloom.logs import configure_logging


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Run the HTTP API with the current settings (migrations are applied on start)."""
    from copyloom.api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
