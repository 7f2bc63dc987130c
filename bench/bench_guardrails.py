"""Benchmark: the whole post-generation guardrail suite per draft (target p50 ≤ 3 ms), and each check alone.

Run: ``python bench/bench_guardrails.py [--repeats N]``. Uses the labelled drafts in evals/ (good and bad,
English and Chinese, every channel); prints p50/p95 per draft for ``run_checks``, per-check p50, the gate's
p50, and the ratio of the suite's p50 to the 3 ms budget. Then the same drafts checked against a real catalogue
(the Online Retail product names from ../shared/data, as the catalogue writes them, in capitals), and drafts
about real Online Retail products (their names and prices in the bundle, English and Chinese copy), with how
many of those good drafts each check blocked or flagged.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evals.run_guardrails import load_cases

from copyloom.contracts.facts import Fact, FactKind, FactSource, FactValues
from copyloom.contracts.variants import Variant
from copyloom.contracts.words import sentences, words
from copyloom.guardrails import CHECKS, CheckContext, Verdict, run_checks
from copyloom.guardrails.claims import extract_claims
from copyloom.guardrails.gate import GateInput, evaluate_gate
from copyloom.guardrails.products import _close, product_mentions

BUDGET_MS = 3.0
ONLINE_RETAIL = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def _real_products() -> dict[str, tuple[str, Decimal]]:
    """sku → (name as the catalogue writes it, last unit price)."""
    out: dict[str, tuple[str, Decimal]] = {}
    with gzip.open(ONLINE_RETAIL, "rt", encoding="utf-8", errors="replace") as f:
        for r in csv.DictReader(f):
            name = r["Description"].strip()
            if name and r["StockCode"][:1].isdigit() and float(r["UnitPrice"] or 0) > 0:
                out[r["StockCode"]] = (name, Decimal(r["UnitPrice"]).quantize(Decimal("0.01")))
    return out


def _real_drafts(
    products: dict[str, tuple[str, Decimal]], base: CheckContext, n: int = 60
) -> list[tuple[Variant, CheckContext]]:
    """Good drafts about real products: each bundle holds the product, each draft names it and its price."""
    rng = random.Random(7)
    out: list[tuple[Variant, CheckContext]] = []
    for sku in rng.sample(sorted(products), n):
        name, price = products[sku]
        fact = Fact(
            id=f"product:{sku}",
            kind=FactKind.PRODUCT,
            text=f"{name} (sku {sku}), {price} GBP",
            values=FactValues(price=price, currency="GBP", sku=sku, product_name=name),
            source=FactSource(table="products", row_id=sku, workspace_id="bench"),
        )
        bundle = base.bundle.model_copy(update={"facts": [*base.bundle.facts, fact]})
        text = f"Northwind: Anna, the {name} is back, £{price}. Reply STOP to opt out"
        variant = Variant.model_validate(
            {"angle": sku, "fact_ids": [fact.id], "content": {"channel": "sms", "text": text}}
        )
        out.append((variant, dataclasses.replace(base, bundle=bundle, channel="sms")))
    return out


def _forget_texts(*, words_too: bool = False) -> None:
    """Empty the per-text memos (a new draft's text was never seen); ``words_too`` also empties the word-pair
    memo of near misses, which in a running service holds the words of every earlier draft."""
    for memo in (extract_claims, product_mentions, words, sentences):
        memo.cache_clear()
    if words_too:
        _close.cache_clear()


def _pcts(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    cases, _ = load_cases()
    t0 = time.perf_counter()
    for _, variant, ctx in cases:
        run_checks(variant, ctx)
    print(f"cold first pass over {len(cases)} drafts (loads the profanity model): {(time.perf_counter() - t0):.2f} s")

    per_draft: list[float] = []
    per_draft_cold: list[float] = []
    per_check: dict[str, list[float]] = {name: [] for name in CHECKS}
    for _, variant, ctx in cases:
        samples, cold = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run_checks(variant, ctx)
            samples.append((time.perf_counter() - start) * 1000)
            # The per-text memos (claims, product mentions, words) and the near-miss word pairs hit on a repeated
            # draft; also time each draft with all of them empty (the worst case: a new text of new words).
            _forget_texts(words_too=True)
            start = time.perf_counter()
            run_checks(variant, ctx)
            cold.append((time.perf_counter() - start) * 1000)
        per_draft.append(statistics.median(samples))
        per_draft_cold.append(statistics.median(cold))
        for name, check in CHECKS.items():
            start = time.perf_counter()
            for _ in range(args.repeats):
                check(variant, ctx)
            per_check[name].append((time.perf_counter() - start) * 1000 / args.repeats)
    p50, p95 = _pcts(per_draft)
    print(
        f"run_checks per draft: p50 {p50:.3f} ms, p95 {p95:.3f} ms, max {max(per_draft):.3f} ms "
        f"(budget {BUDGET_MS} ms: p50 is {p50 / BUDGET_MS:.0%} of it)"
    )
    c50, c95 = _pcts(per_draft_cold)
    print(f"run_checks per draft, every memo empty (new text, new words): p50 {c50:.3f} ms, p95 {c95:.3f} ms")
    for name, samples in per_check.items():
        c50, c95 = _pcts(samples)
        print(f"  {name:<10} p50 {c50:.3f} ms  p95 {c95:.3f} ms")

    if ONLINE_RETAIL.exists():
        products = _real_products()
        names = tuple(sorted({name for name, _ in products.values()}))
        big = [(variant, dataclasses.replace(ctx, catalogue=ctx.catalogue + names)) for _, variant, ctx in cases]
        for variant, ctx in big:
            run_checks(variant, ctx)
        with_catalogue = []
        for variant, ctx in big:
            start = time.perf_counter()
            for _ in range(max(1, args.repeats // 20)):
                run_checks(variant, ctx)
            with_catalogue.append((time.perf_counter() - start) * 1000 / max(1, args.repeats // 20))
        b50, b95 = _pcts(with_catalogue)
        print(
            f"run_checks per draft with the {len(names):,}-name Online Retail catalogue: p50 {b50:.3f} ms, "
            f"p95 {b95:.3f} ms ({b50 / p50:.1f}x the demo catalogue)"
        )
        en_ctx = next(ctx for row, _, ctx in cases if row["bundle"] == "en")
        real = _real_drafts(products, dataclasses.replace(en_ctx, catalogue=names))
        for variant, ctx in real:
            run_checks(variant, ctx)
        real_ms: list[float] = []
        outcome: dict[str, list[int]] = {name: [0, 0] for name in CHECKS}
        for variant, ctx in real:
            samples = []
            for _ in range(max(1, args.repeats // 20)):
                _forget_texts()
                start = time.perf_counter()
                report = run_checks(variant, ctx)
                samples.append((time.perf_counter() - start) * 1000)
            real_ms.append(statistics.median(samples))
            for r in report.results:
                if r.verdict is not Verdict.PASS:
                    outcome[r.check][0 if r.verdict is Verdict.BLOCK else 1] += 1
        r50, r95 = _pcts(real_ms)
        print(
            f"run_checks per new good draft naming a real Online Retail product (capitals as written; per-text "
            f"memos empty, word pairs of earlier drafts kept): p50 {r50:.3f} ms, p95 {r95:.3f} ms (budget {BUDGET_MS} ms)"
        )
        print("  blocked/flagged of those good drafts: " + ", ".join(f"{k} {b}/{f}" for k, (b, f) in outcome.items()))

    snap = GateInput(
        customer_id="bench",
        consents={("marketing", "sms"): "granted", ("personalization", "sms"): "granted"},
        time_zone="America/New_York",
        sent=tuple(("sms", datetime(2025, 12, d, 12, tzinfo=UTC)) for d in (20, 22, 24)),
    )
    now = datetime(2025, 12, 30, 17, tzinfo=UTC)
    n = args.repeats * 50
    start = time.perf_counter()
    for _ in range(n):
        evaluate_gate(snap, channel="sms", purpose="marketing", now=now, realtime=True)
    print(f"evaluate_gate: {(time.perf_counter() - start) * 1e6 / n:.1f} µs per decision")


if __name__ == "__main__":
    main()
