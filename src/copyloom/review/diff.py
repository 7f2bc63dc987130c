"""What a reviewer changed: the phrases replaced, removed or added in each field (what reports learn from)."""

from __future__ import annotations

import difflib
import re
from typing import Any

# A token is one CJK character (Chinese has no spaces between words), a run of letters/digits, a run of
# spaces, or any other single character: phrase boundaries then fall where a reader sees them.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W_]+|\s+|.", re.S)
_MAX_PHRASE = 200


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def text_fields(content: dict[str, Any]) -> dict[str, str]:
    """A stored draft content's visible strings by field name (nested values as ``name.key``)."""
    out: dict[str, str] = {}
    for name, value in content.items():
        if name == "channel":
            continue
        if isinstance(value, dict):
            out.update({f"{name}.{k}": str(v) for k, v in value.items()})
        elif value is not None:
            out[name] = str(value)
    return out


def phrase_changes(before: str, after: str) -> list[dict[str, str]]:
    """``[{"before", "after"}]`` for every changed stretch; neighbouring changes split by one space merge."""
    a, b = _tokens(before), _tokens(after)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    merged: list[tuple[int, int, int, int]] = []
    for i, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            # Glue "cheap [ ] boots" edits into one phrase when only whitespace separates them.
            between = a[i1:i2]
            glue = 0 < i < len(ops) - 1 and all(t.isspace() for t in between) and merged
            if glue:
                p1, _, q1, _ = merged.pop()
                merged.append((p1, -1, q1, -1))
            continue
        if merged and merged[-1][1] == -1:
            p1, _, q1, _ = merged.pop()
            merged.append((p1, i2, q1, j2))
        else:
            merged.append((i1, i2, j1, j2))
    changes = []
    for i1, i2, j1, j2 in merged:
        old = "".join(a[i1:i2]).strip()[:_MAX_PHRASE]
        new = "".join(b[j1:j2]).strip()[:_MAX_PHRASE]
        if old or new:
            changes.append({"before": old, "after": new})
    return changes


def content_diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per changed field: ``{"field", "changes": [{"before", "after"}]}``."""
    old, new = text_fields(before), text_fields(after)
    out: list[dict[str, Any]] = []
    for field in sorted(old.keys() | new.keys()):
        a, b = old.get(field, ""), new.get(field, "")
        if a != b:
            out.append({"field": field, "changes": phrase_changes(a, b)})
    return out
