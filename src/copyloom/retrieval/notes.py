"""Customer notes as facts: untrusted, cleaned, capped, ranked by meaning against the brief, never sensitive.

A note is scored with its own vector, fetched by id (never a Chroma where-filter on the customer: see
``store``). A note that talks about health, children, religion and the like is dropped whole, with the reason,
because DOMAIN.md forbids drawing on special categories even when the customer volunteered them.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from copyloom.contracts.facts import DroppedFact, Fact, FactKind, FactSource
from copyloom.models import Customer, Note
from copyloom.retrieval.sanitize import clean_text

__all__ = ["NOTE_CHARS", "mentions_sensitive", "note_facts"]

NOTE_CHARS = 300
MAX_NOTE_FACTS = 3
_SENSITIVE_WORDS = re.compile(
    r"\b(health|illness|ill|sick|disease|diagnos\w*|medical|medication|therapy|pregnan\w*|disabilit\w*|"
    r"religio\w*|church|mosque|synagogue|temple|ethnic\w*|sexual\w*|gay|lesbian|transgender|"
    r"kids?|child|children|baby|babies|toddler|son|daughter|minor)\b",
    re.IGNORECASE,
)
_SENSITIVE_CJK = ("健康", "生病", "疾病", "怀孕", "宗教", "信仰", "孩子", "儿童", "子女", "宝宝", "女儿", "儿子")


def mentions_sensitive(text: str) -> bool:
    return bool(_SENSITIVE_WORDS.search(text)) or any(term in text for term in _SENSITIVE_CJK)


def note_facts(
    notes: list[Note],
    vectors: dict[str, npt.NDArray[np.float32]],
    brief_vec: npt.NDArray[np.float32],
    customer: Customer,
) -> tuple[list[Fact], list[DroppedFact]]:
    facts: list[Fact] = []
    dropped: list[DroppedFact] = []
    for n in notes:
        fid = f"note:{n.external_id}"
        text = clean_text(n.text, NOTE_CHARS)
        if mentions_sensitive(text):
            dropped.append(DroppedFact(id=fid, kind=FactKind.NOTE, reason="sensitive_content"))
            continue
        vec = vectors.get(fid)
        sim = float(vec @ brief_vec) if vec is not None else 0.0
        facts.append(
            Fact(
                id=fid,
                kind=FactKind.NOTE,
                text=f"Customer {clean_text(n.kind, 20)} note: {text}",
                source=FactSource(
                    table="notes",
                    row_id=str(n.id),
                    workspace_id=customer.workspace_id,
                    customer_id=customer.external_id,
                ),
                # notes inform tone, never claims: they rank below the brand's own facts
                score=0.2 + 0.4 * max(sim, 0.0),
                untrusted=True,
            )
        )
    facts.sort(key=lambda f: -f.score)
    return facts[:MAX_NOTE_FACTS], dropped
