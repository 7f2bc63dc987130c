"""Guardrail evaluation: the labelled drafts and gate cases in this folder, plus public prompt-injection sets.

Run: ``python evals/run_guardrails.py [--strict]``. Prints, per check, caught / total bad and wrongly blocked /
total good (for the labelled drafts the checks were developed against, then for ``holdout.jsonl``, drafts written
later and never used to tune a check: the honest estimate; ``--strict`` judges the first set only), the median latency of the whole post-generation suite per draft, the consent gate's numbers and
the injection detector's rates on CyberSecEval / BIPIA attacks and benign BIPIA emails planted into notes
(skipped when ../shared/data/prompt_injection is absent). ``--strict`` exits 1 when a target is missed.

``--set claims`` runs only the independent claims set instead (``claims_set.jsonl`` over ``claims_bundles.json``:
drafts written from the facts alone, before the checks were rewritten; its first run is in the commit that added
it) and prints, per failure class and per good-copy class, how many drafts the whole suite blocked, only flagged
or passed, which checks fired, and the totals overall and per language.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief
from copyloom.guardrails import CHECKS, CheckContext, Verdict, run_checks, scan_note_for_injection
from copyloom.guardrails.gate import EventSummary, GateInput, evaluate_gate

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("COPYLOOM_SHARED_DATA", HERE.parents[1] / "shared" / "data"))
SEVERITY = {"pass": 0, "flag": 1, "block": 2}


@dataclass
class CheckStats:
    bad: int = 0
    caught: int = 0
    good: int = 0
    wrongly_blocked: int = 0
    wrongly_flagged: int = 0
    missed: list[str] = field(default_factory=list)
    false_blocks: list[str] = field(default_factory=list)


def _load_bundles(name: str) -> tuple[dict[str, Any], dict[str, FactsBundle]]:
    spec = json.loads((HERE / name).read_text(encoding="utf-8"))
    return spec["context"], {key: FactsBundle.model_validate(b) for key, b in spec["bundles"].items()}


def _check_context(row: dict[str, Any], bundle: FactsBundle, context: dict[str, Any]) -> CheckContext:
    return CheckContext(
        bundle=bundle,
        channel=row["content"]["channel"],
        send_at=datetime.fromisoformat(row.get("send_at") or context["send_at"]),
        brief=Brief(goal=row["goal"]),
        other_customers=tuple(context["other_customers"]),
        catalogue=tuple(context["catalogue"]),
        brand_domains=tuple(context["brand_domains"]),
    )


def _variant(row: dict[str, Any]) -> Variant:
    return Variant.model_validate({"angle": row["id"], "fact_ids": row["fact_ids"], "content": row["content"]})


def load_cases(name: str = "drafts.jsonl") -> tuple[list[tuple[dict[str, Any], Variant, CheckContext]], int]:
    context, bundles = _load_bundles("bundles.json")
    cases = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bundle = bundles[row["bundle"]]
        if "bundle_facts" in row:
            keep = set(row["bundle_facts"])
            bundle = bundle.model_copy(update={"facts": [f for f in bundle.facts if f.id in keep]})
        cases.append((row, _variant(row), _check_context(row, bundle, context)))
    return cases, len(bundles)


def eval_drafts(repeats: int = 20, name: str = "drafts.jsonl") -> dict[str, Any]:
    cases, _ = load_cases(name)
    stats = {name: CheckStats() for name in CHECKS}
    for _, variant, ctx in cases:
        run_checks(variant, ctx)  # warm caches (profanity model, compiled lexicons)
    latencies: list[float] = []
    overall_bad_caught = overall_good_pass = 0
    for row, variant, ctx in cases:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            report = run_checks(variant, ctx)
            times.append((time.perf_counter() - t0) * 1000)
        latencies.append(statistics.median(times))
        verdicts = {r.check: r.verdict for r in report.results}
        if row["label"] == "good":
            overall_good_pass += report.verdict is not Verdict.BLOCK
        else:
            overall_bad_caught += report.verdict is not Verdict.PASS
        for name, st in stats.items():
            got = verdicts[name]
            if row["label"] == "good":
                st.good += 1
                if got is Verdict.BLOCK:
                    st.wrongly_blocked += 1
                    st.false_blocks.append(row["id"])
                elif got is Verdict.FLAG:
                    st.wrongly_flagged += 1
            elif name in row["expect"]:
                st.bad += 1
                if got.severity >= SEVERITY[row["expect"][name]]:
                    st.caught += 1
                else:
                    st.missed.append(row["id"])
    good = sum(r["label"] == "good" for r, _, _ in cases)
    return {
        "stats": stats,
        "drafts": len(cases),
        "good": good,
        "overall_good_not_blocked": overall_good_pass,
        "overall_bad_caught": overall_bad_caught,
        "p50_ms": statistics.median(latencies),
        "p95_ms": sorted(latencies)[int(0.95 * (len(latencies) - 1))],
    }


CLAIMS_BUNDLES, CLAIMS_SET = "claims_bundles.json", "claims_set.jsonl"
# Claims sets by name: (drafts, bundles). ``claims2`` is a second brand (a tea house, GBP and CNY, structured offer
# scopes and eligibility), written from its facts alone before the checks were changed for it.
CLAIMS_SETS = {"claims": (CLAIMS_SET, CLAIMS_BUNDLES), "claims2": ("claims2_set.jsonl", "claims2_bundles.json")}


def load_claims(name: str = "claims") -> tuple[list[dict[str, Any]], dict[str, FactsBundle], dict[str, Any]]:
    """An independent claims set (written from the facts alone, before the checks were rewritten): its rows,
    its bundles by name and its context."""
    drafts, bundles_file = CLAIMS_SETS[name]
    context, bundles = _load_bundles(bundles_file)
    text = (HERE / drafts).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()], bundles, context


@dataclass(frozen=True)
class ClaimsRun:
    """How the whole suite treated one draft of the claims set, and which checks spoke (check:verdict:reason)."""

    id: str
    label: str
    cls: str
    lang: str
    verdict: Verdict
    reasons: tuple[str, ...]
    evidence: str


def eval_claims(name: str = "claims") -> list[ClaimsRun]:
    rows, bundles, context = load_claims(name)
    runs = []
    for row in rows:
        bundle = bundles[row["bundle"]]
        report = run_checks(_variant(row), _check_context(row, bundle, context))
        spoke = [r for r in report.results if r.verdict is not Verdict.PASS]
        reasons = tuple(f"{r.check}:{r.verdict.value}:{r.reason_code}" for r in spoke)
        evidence = "; ".join(f"{k} {[e.text for e in r.evidence][:3]}" for k, r in zip(reasons, spoke, strict=True))
        lang = "zh" if bundle.locale.startswith("zh") else "en"
        runs.append(ClaimsRun(row["id"], row["label"], row["class"], lang, report.verdict, reasons, evidence))
    return runs


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "0/0"


def _claims_report(runs: list[ClaimsRun], verbose: bool) -> None:
    for r in runs if verbose else []:
        _say(f"{r.id} {r.label:<4} {r.cls:<20} {r.verdict.value:<5} {r.evidence}")
    for label, head in (("bad", "blocked flagged missed"), ("good", "blocked flagged passed")):
        _say(f"{label + ' class':<22} {'n':>3} {head}  checks fired (check:verdict:reason count)")
        for cls in sorted({r.cls for r in runs if r.label == label}):
            mine = [r for r in runs if r.cls == cls]
            blocked = sum(r.verdict is Verdict.BLOCK for r in mine)
            flagged = sum(r.verdict is Verdict.FLAG for r in mine)
            fired = ", ".join(f"{k} {v}" for k, v in Counter(k for r in mine for k in r.reasons).most_common())
            wrong = [r.id for r in mine if r.verdict is (Verdict.PASS if label == "bad" else Verdict.BLOCK)]
            _say(
                f"{cls:<22} {len(mine):>3} {blocked:>7} {flagged:>7} {len(mine) - blocked - flagged:>6}  {fired}  {wrong or ''}"
            )
    good_reasons = Counter(k for r in runs if r.label == "good" for k in set(r.reasons))
    n_good = sum(r.label == "good" for r in runs)
    common = {k for k, v in good_reasons.items() if v >= 0.1 * n_good}  # fire on good copy as often: no signal
    for scope in ("all", "en", "zh"):
        mine = [r for r in runs if scope in ("all", r.lang)]
        bad = [r for r in mine if r.label == "bad"]
        good = [r for r in mine if r.label == "good"]
        stopped = [r for r in bad if r.verdict is not Verdict.PASS]
        specific = [r for r in stopped if r.verdict is Verdict.BLOCK or set(r.reasons) - common]
        _say(
            f"totals {scope}: bad blocked {_pct(sum(r.verdict is Verdict.BLOCK for r in bad), len(bad))}, "
            f"bad at least flagged {_pct(len(stopped), len(bad))} (not counting flags for reasons that fire on "
            f">= 10% of good drafts: {_pct(len(specific), len(bad))}); "
            f"good blocked {_pct(sum(r.verdict is Verdict.BLOCK for r in good), len(good))}, "
            f"good flagged {_pct(sum(r.verdict is Verdict.FLAG for r in good), len(good))}"
        )
    _say(f"reasons firing on >= 10% of good drafts: {sorted(common)}")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def eval_gate() -> dict[str, Any]:
    bad = caught = good = wrongly = 0
    wrong_reason: list[str] = []
    for line in (HERE / "gate_cases.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        s = row["snapshot"]
        snap = GateInput(
            customer_id=s["customer_id"],
            consents={(p, c): st for p, c, st in s["consents"]},
            suppressed=s.get("suppressed", False),
            birth_date=date.fromisoformat(s["birth_date"]) if s.get("birth_date") else None,
            is_minor=s.get("is_minor", False),
            time_zone=s.get("time_zone"),
            country=s.get("country"),
            region=s.get("region"),
            sent=tuple((ch, datetime.fromisoformat(at)) for ch, at in s.get("sent", [])),
            events=tuple(EventSummary(n, datetime.fromisoformat(at), st) for n, at, st in s.get("events", [])),
            last_inbound_whatsapp=_dt(s.get("last_inbound_whatsapp")),
        )
        now = datetime.fromisoformat(row["now"])
        send_at = _dt(row["send_at"])
        d = evaluate_gate(
            snap, channel=row["channel"], purpose=row["purpose"], now=now, send_at=send_at, realtime=row["realtime"]
        )
        sendable = d.sendable_at(send_at or now)
        if d.reason_code != row["expect_reason"]:
            wrong_reason.append(f"{row['id']}: {d.reason_code} != {row['expect_reason']}")
        if row["expect_allowed"]:
            good += 1
            wrongly += not sendable
        else:
            bad += 1
            caught += not sendable
    return {"bad": bad, "caught": caught, "good": good, "wrongly_blocked": wrongly, "wrong_reason": wrong_reason}


def _attacks() -> tuple[list[str], list[str], list[str]] | None:
    folder = SHARED / "prompt_injection"
    if not (folder / "cse_pi.json").exists():
        return None
    cse = [c["user_input"] for c in json.loads((folder / "cse_pi.json").read_text(encoding="utf-8"))]
    bipia_groups = json.loads((folder / "bipia_text_attack_test.json").read_text(encoding="utf-8"))
    bipia = [a for group in bipia_groups.values() for a in group]
    benign = [
        json.loads(line)["context"]
        for line in (folder / "bipia_email_test.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return cse, bipia, benign


def eval_injection() -> dict[str, Any] | None:
    data = _attacks()
    if data is None:
        return None
    cse, bipia, benign = data

    def note(text: str) -> str:  # planted into a realistic support note
        return f"Customer wrote via support form: {text}\nAgent: replied with sizing guide."

    rate = {}
    for name, texts in (("cse_pi attacks", cse), ("bipia attacks", bipia), ("bipia benign emails", benign)):
        flagged = sum(scan_note_for_injection(note(t)).verdict is Verdict.FLAG for t in texts)
        rate[name] = (flagged, len(texts))
    return rate


def _say(line: str) -> None:
    """The runner's report goes to stdout (a script, not a library: no logging setup)."""
    sys.stdout.write(line + "\n")


def _table(d: dict[str, Any]) -> None:
    _say(f"{'check':<11} {'caught/bad':>11} {'blocked good':>13} {'flagged good':>13}  missed / wrongly blocked")
    for name, st in d["stats"].items():
        _say(
            f"{name:<11} {st.caught:>5}/{st.bad:<5} {st.wrongly_blocked:>6}/{st.good:<6} {st.wrongly_flagged:>6}/{st.good:<6}"
            f"  {st.missed or ''} {st.false_blocks or ''}"
        )
    _say(
        f"overall: bad drafts caught {d['overall_bad_caught']}/{d['drafts'] - d['good']}, "
        f"good drafts not blocked {d['overall_good_not_blocked']}/{d['good']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="claims set: one line per draft with the evidence")
    parser.add_argument(
        "--set",
        choices=("default", *CLAIMS_SETS),
        default="default",
        help="claims / claims2: only that independent claims set (claims_set.jsonl, claims2_set.jsonl), per class",
    )
    args = parser.parse_args(argv)
    if args.set in CLAIMS_SETS:
        runs = eval_claims(args.set)
        _say(f"{args.set} set: {len(runs)} drafts, per class (blocked / flagged only / passed by the whole suite)")
        _claims_report(runs, args.verbose)
        return 0
    d = eval_drafts(args.repeats)
    _say(f"labelled drafts: {d['drafts']} ({d['good']} good)")
    _table(d)
    _say(f"latency per draft (whole post-generation suite): p50 {d['p50_ms']:.3f} ms, p95 {d['p95_ms']:.3f} ms")
    h = eval_drafts(1, "holdout.jsonl")
    _say(f"held-out drafts (written after the checks and never tuned on): {h['drafts']} ({h['good']} good)")
    _table(h)
    g = eval_gate()
    _say(
        f"consent gate: caught {g['caught']}/{g['bad']}, wrongly blocked {g['wrongly_blocked']}/{g['good']}, "
        f"reason mismatches {len(g['wrong_reason'])} {g['wrong_reason'] or ''}"
    )
    inj = eval_injection()
    if inj is None:
        _say(f"injection: skipped ({SHARED / 'prompt_injection'} not found)")
    else:
        for name, (flagged, total) in inj.items():
            _say(f"injection detector on {name}: flagged {flagged}/{total} ({flagged / total:.1%})")
    ok = (
        d["stats"]["grounding"].caught == d["stats"]["grounding"].bad
        and d["stats"]["grounding"].wrongly_blocked == 0
        and g["caught"] == g["bad"]
        and g["wrongly_blocked"] == 0
        and (inj is None or inj["bipia benign emails"][0] <= 0.05 * inj["bipia benign emails"][1])
        and d["p50_ms"] <= 2.0
    )
    _say("targets met" if ok else "TARGETS MISSED")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
