"""Versioned Jinja2 prompt files and their registry.

Templates live in ``templates/<name>.v<N>.j2``. They are rendered in a ``SandboxedEnvironment`` with
``StrictUndefined`` (a missing variable is an error, not an empty string) and autoescape off (prompts are not
HTML). Only these files are ever compiled as templates: customer text enters as variable *values*, so a name
like ``{{ 7*7 }}`` stays literally that.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict

__all__ = [
    "TEMPLATES_DIR",
    "PromptMessage",
    "PromptTemplate",
    "RenderedPrompt",
    "available_prompts",
    "get_prompt",
    "render_chat",
]

TEMPLATES_DIR = Path(__file__).parent / "templates"
_FILE_RE = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+?)\.v(?P<version>\d+)\.j2$")


class PromptMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class RenderedPrompt(BaseModel):
    """A rendered chat prompt with its provenance: which files, which versions, and the hash of the text."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: int
    parts: list[str]  # every template file that contributed, as "<name>.v<N>"
    sha256: str
    messages: list[PromptMessage]


@lru_cache(maxsize=1)
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # package files: no stat of the template on every render
    )


@lru_cache(maxsize=1)
def available_prompts() -> dict[str, list[int]]:
    """Every prompt name with its versions, ascending."""
    found: dict[str, list[int]] = {}
    for path in TEMPLATES_DIR.glob("*.j2"):
        match = _FILE_RE.match(path.name)
        if match:
            found.setdefault(match["name"], []).append(int(match["version"]))
    return {name: sorted(versions) for name, versions in sorted(found.items())}


@dataclass(frozen=True)
class PromptTemplate:
    """One versioned template file."""

    name: str
    version: int

    @property
    def filename(self) -> str:
        return f"{self.name}.v{self.version}.j2"

    @property
    def ref(self) -> str:
        return f"{self.name}.v{self.version}"

    def render(self, **variables: Any) -> str:
        return _environment().get_template(self.filename).render(**variables).strip()


def get_prompt(name: str, version: int | None = None) -> PromptTemplate:
    """The template ``name`` at ``version`` (latest when ``None``); ``KeyError`` when it does not exist."""
    versions = available_prompts().get(name)
    if not versions:
        raise KeyError(f"unknown prompt {name!r}")
    if version is None:
        return PromptTemplate(name, versions[-1])
    if version not in versions:
        raise KeyError(f"prompt {name!r} has no version {version} (have {versions})")
    return PromptTemplate(name, version)


def render_chat(system: PromptTemplate, user: PromptTemplate, variables: dict[str, Any]) -> RenderedPrompt:
    """Render a system + user pair; the hash covers roles and texts of both messages."""
    messages = [
        PromptMessage(role="system", content=system.render(**variables)),
        PromptMessage(role="user", content=user.render(**variables)),
    ]
    digest = hashlib.sha256()
    for m in messages:
        digest.update(m.role.encode())
        digest.update(b"\x00")
        digest.update(m.content.encode())
        digest.update(b"\x00")
    return RenderedPrompt(
        name=user.name,
        version=user.version,
        parts=[system.ref, user.ref],
        sha256=digest.hexdigest(),
        messages=messages,
    )
