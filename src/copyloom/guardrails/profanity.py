"""Profanity scoring with alt-profanity-check's trained model, evaluated without scikit-learn in the hot path.

The library's ``predict_prob`` costs ~2.5 ms per call (input validation in scikit-learn), more than the
whole guardrail budget. Its model is a TF-IDF vectorizer feeding five sigmoid-calibrated linear SVMs, so we
read those weights once and compute the same probability with dictionaries: tens of microseconds.
A test checks that the two agree.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class _Model:
    weights: dict[str, tuple[float, tuple[float, ...]]]  # term → (idf, weight per calibrated classifier)
    intercepts: tuple[float, ...]
    sigmoid: tuple[tuple[float, float], ...]  # (a, b) per classifier: p = 1 / (1 + exp(a * f + b))
    token: re.Pattern[str]
    stop_words: frozenset[str]


@cache
def _model() -> _Model:
    # Heavy (scikit-learn underneath): imported on first use only.
    import joblib  # type: ignore[import-untyped]

    base = resources.files("profanity_check") / "data"
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
    """Load the model now (≈1.5 s once per process) rather than on the first draft."""
    _model()
