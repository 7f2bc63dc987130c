"""Words and sentences of marketing copy, in English and Chinese.

Chinese has no spaces, so its words come from ``jieba`` (loaded once per process, without its start-up chatter);
Latin words, numbers and symbols come from a regular expression. A Latin name written straight against Chinese
text ("您的Pegasus 40跑鞋") is therefore its own word: the script change is a word boundary.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from copyloom.contracts.text import CJK_RE

_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Where a sentence ends: a claim is bound to a subject in its own sentence.
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[。！？；;\n]+|\s[-–—]\s")
_lock = threading.Lock()
_jieba: Any = None


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: int
    end: int


def _tokenizer() -> Any:
    """jieba's default tokenizer, initialised on first use (about a second, once per process)."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                import jieba  # type: ignore[import-untyped]

                jieba.setLogLevel(logging.WARNING)
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                _jieba = tok
    return _jieba


def warm_up() -> None:
    """Load the Chinese dictionary now rather than on the first Chinese draft."""
    _tokenizer()


@lru_cache(maxsize=4096)
def _cjk_words(run: str) -> tuple[tuple[str, int, int], ...]:
    return tuple((w, a, b) for w, a, b in _tokenizer().tokenize(run, HMM=False))


def word_frequency(word: str) -> int:
    """How often jieba's dictionary has seen ``word`` (0 for a word it does not know, such as most names)."""
    return int(_tokenizer().FREQ.get(word) or 0)


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[Word, ...]:
    """Every word and symbol of ``text`` with its offsets (spaces dropped)."""
    out: list[Word] = []
    pos = 0
    for run in _CJK_RUN.finditer(text) if CJK_RE.search(text) else ():
        out += [Word(m.group(0), pos + m.start(), pos + m.end()) for m in _LATIN_WORD.finditer(text[pos : run.start()])]
        out += [Word(w, run.start() + a, run.start() + b) for w, a, b in _cjk_words(run.group(0))]
        pos = run.end()
    out += [Word(m.group(0), pos + m.start(), pos + m.end()) for m in _LATIN_WORD.finditer(text[pos:])]
    return tuple(out)


@lru_cache(maxsize=4096)
def sentences(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence or clause that a claim and its subject must share."""
    out: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > pos:
            out.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        out.append((pos, len(text)))
    return tuple(out)


def sentence_of(text: str, offset: int) -> tuple[int, int]:
    for start, end in sentences(text):
        if start <= offset < end:
            return start, end
    return offset, offset


def is_boundary(text: str, offset: int) -> bool:
    """Whether a word may begin or end at ``offset``: between two scripts, at a space or symbol, or between two
    Chinese words as jieba cuts them."""
    if offset <= 0 or offset >= len(text):
        return True
    a, b = text[offset - 1], text[offset]
    if not (a.isalnum() and b.isalnum()):
        return True
    if a.isascii() != b.isascii():
        return True
    if a.isascii():
        return False
    return any(w.start == offset for w in words(text))
