"""Every name a module exports in ``__all__`` exists, and every module imports on its own."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import copyloom

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(copyloom.__path__, prefix="copyloom.") if ".migrations." not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_module_imports_and_exports_what_it_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
