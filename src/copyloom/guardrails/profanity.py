"""Profanity scoring with alt-profanity-check's trained model, evaluated without scikit-learn in the hot path.

The library's ``predict_prob`` costs ~2.5 ms per call (input validation in scikit-learn), more than the
whole guardrail budget. Its model is a TF-IDF vectorizer feeding five sigmoid-calibrated linear SVMs, so we
read those weights once and compute the same probability with dictionaries: tens of microseconds.
A test checks that the two agree.

Reading the weights means unpickling scikit-learn objects: importing scikit-learn and SciPy, about 2.5 s of CPU
in every worker process (at 200 customers, 6 ms per target). So the weights read are also written to a JSON file
in the user's cache directory (``$XDG_CACHE_HOME/copyloom``, else ``~/.cache/copyloom``), named by a hash of the
model's files: a later process on the machine loads them in ~30 ms. A missing, unreadable or unwritable cache only
costs the slow path.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger("copyloom.guardrails")
_FORMAT = 1  # of the cache file: bump when _Model's fields change


@dataclass(frozen=True, slots=True)
class _Model:
    weights: dict[str, tuple[float, tuple[float, ...]]]  # term → (idf, weight per calibrated classifier)
    intercepts: tuple[float, ...]
    sigmoid: tuple[tuple[float, float], ...]  # (a, b) per classifier: p = 1 / (1 + exp(a * f + b))
    token: re.Pattern[str]
    stop_words: frozenset[str]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "copyloom"


def _model_key(base: Path) -> str:
    """A hash of the library's model files: a new version of them never meets weights read from an old one."""
    digest = hashlib.sha256(f"profanity-{_FORMAT}".encode())
    for name in ("vectorizer.joblib", "model.joblib"):
        digest.update((base / name).read_bytes())
    return digest.hexdigest()[:32]


def _data_dir() -> Path:
    """The library's model files, found without importing it (its ``__init__`` imports scikit-learn)."""
    spec = importlib.util.find_spec("profanity_check")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("alt-profanity-check is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def _model() -> _Model:
    base = _data_dir()
    path = _cache_dir() / f"profanity-{_model_key(base)}.json"
    try:
        return _from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("guardrails.profanity_cache_unreadable", exc_info=True, extra={"path": str(path)})
    model = _from_library(base)
    _write_cache(path, model)
    return model


def _from_library(base: Path) -> _Model:
    # Heavy (scikit-learn underneath): imported on first use only.
    import joblib  # type: ignore[import-untyped]

    vectorizer: Any = joblib.load(str(base / "vectorizer.joblib"))
    model: Any = joblib.load(str(base / "model.joblib"))
    calibrated = model.calibrated_classifiers_
    coefs = [c.estimator.coef_[0] for c in calibrated]
    idf = vectorizer.idf_
    weights = {
        term: (float(idf[col]), tuple(float(w[col]) for w in coefs)) for term, col in vectorizer.vocabulary_.items()
    }
    positive = list(model.classes_).index(1)
    if positive != 1:
        raise RuntimeError("unexpected class order in the profanity model")
    return _Model(
        weights=weights,
        intercepts=tuple(float(c.estimator.intercept_[0]) for c in calibrated),
        sigmoid=tuple((float(c.calibrators[0].a_), float(c.calibrators[0].b_)) for c in calibrated),
        token=re.compile(vectorizer.token_pattern),
        stop_words=frozenset(vectorizer.get_stop_words() or ()),
    )


def _to_json(m: _Model) -> dict[str, Any]:
    return {
        "weights": {term: [idf, list(ws)] for term, (idf, ws) in m.weights.items()},
        "intercepts": list(m.intercepts),
        "sigmoid": [list(ab) for ab in m.sigmoid],
        "token": m.token.pattern,
        "stop_words": sorted(m.stop_words),
    }


def _from_json(data: dict[str, Any]) -> _Model:
    """Floats written by ``json`` read back bit for bit (shortest repr round-trips)."""
    intercepts = tuple(float(x) for x in data["intercepts"])
    weights = {str(t): (float(idf), tuple(float(w) for w in ws)) for t, (idf, ws) in data["weights"].items()}
    if any(len(ws) != len(intercepts) for _, ws in weights.values()):
        raise ValueError("profanity cache: weights and intercepts disagree")
    return _Model(
        weights=weights,
        intercepts=intercepts,
        sigmoid=tuple((float(a), float(b)) for a, b in data["sigmoid"]),
        token=re.compile(str(data["token"])),
        stop_words=frozenset(str(w) for w in data["stop_words"]),
    )


def _write_cache(path: Path, m: _Model) -> None:
    """Atomically (a temporary file renamed): a process reading meanwhile sees the whole file or none."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(_to_json(m), out, ensure_ascii=False, separators=(",", ":"))
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        log.warning("guardrails.profanity_cache_unwritable", exc_info=True, extra={"path": str(path)})


def profanity_probability(text: str) -> float:
    """Probability that ``text`` is profane, as ``profanity_check.predict_prob`` would give."""
    m = _model()
    counts = Counter(t for t in m.token.findall(text.lower()) if t not in m.stop_words)
    feats = [(m.weights[t], n) for t, n in counts.items() if t in m.weights]
    k = len(m.intercepts)
    scores = list(m.intercepts)
    if feats:
        norm = math.sqrt(sum((idf * n) ** 2 for (idf, _), n in feats))
        for (idf, ws), n in feats:
            x = idf * n / norm
            for i in range(k):
                scores[i] += ws[i] * x
    probs = []
    for score, (a, b) in zip(scores, m.sigmoid, strict=True):
        z = a * score + b
        probs.append(1.0 / (1.0 + math.exp(z)) if z > -700 else 1.0)
    return sum(probs) / k


def warm_up() -> None:
    """Load the model now rather than on the first draft (≈2.5 s of CPU the first time on a machine, ~30 ms once
    its weights are in the cache)."""
    _model()
