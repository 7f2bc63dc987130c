"""Offline drafts as a marketer would read them: demo customers and Online Retail customers, with their verdicts.

Run: ``python evals/offline_samples.py [--out FILE] [--variants 3]``. Prints markdown: for each customer, each
channel it can be reached on, ``--variants`` offline drafts (no model: any ``COPYLOOM_*`` setting of the caller is
dropped) with their guardrail verdict, every check that did not pass, the facts they cite and the generator's
notes (pairing reasons, what of the brief was followed); channels the consent gate suppressed are listed with
their reason.

Everything runs through the command line in a fresh data directory, as a new user would:
- the demo: ``copyloom demo --no-serve``, then ``copyloom drafts create`` for three demo customers;
- Online Retail, when ``../shared/data/online_retail/online_retail.csv.gz`` exists (or ``COPYLOOM_SHARED_DATA``
  points at a folder that holds it): the README "Using it" commands (workspace, import, consent grant, brand kit),
  plus the same grant on push and web (source ``offline samples``) so that more than one channel is shown, then
  three of its customers. Without the file, the sample in ``tests/fixtures`` stands in (and the note says so).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("COPYLOOM_SHARED_DATA", ROOT.parent / "shared" / "data"))
RETAIL_FILE = SHARED / "online_retail" / "online_retail.csv.gz"
FIXTURES = ROOT / "tests" / "fixtures"
CLI = [sys.executable, "-c", "from copyloom.cli import main; main()"]
CHANNELS = ("email", "sms", "push", "in_app", "whatsapp", "web")
RETAIL_EXTRA_CHANNELS = ("push", "web")


@dataclass(frozen=True)
class Ask:
    """One customer's request: goal, and the brief's free text (None: no instructions)."""

    customer_id: str
    goal: str
    instructions: str | None = None
    why: str = ""


DEMO = (
    Ask("C1001", "cross_sell", None, "English, Gold tier, consent on every channel"),
    Ask("C2001", "cross_sell", None, "Chinese-speaking, Gold tier, consent on every channel"),
    Ask("C1004", "win_back", "Keep it short and feature the SPRING20 offer. No emoji.", "English, email and web"),
)
RETAIL = (
    Ask("12347", "cross_sell", None, "the README's customer (Iceland)"),
    Ask("12583", "replenish", None, "France, repeat buyer"),
    Ask("17850", "win_back", "Keep it short.", "United Kingdom, many orders"),
)
# Invitations, one email each: the demo brand has an event fact (brand knowledge of kind 'event'); the Online Retail
# shop has none, so the offline generator must refuse (422 not_supported_offline) rather than invent one.
INVITES = (("demo", Ask("C1001", "event_invite", None, "invitation, with an event fact")),)
RETAIL_INVITES = (("acme", Ask("12347", "event_invite", None, "invitation, no event fact")),)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_")}
    paths = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    return env | {"COPYLOOM_DATA_DIR": str(data_dir), "PYTHONPATH": paths, "COLUMNS": "1000"}  # one-line errors


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=3600)


def _cli(args: list[str], env: dict[str, str]) -> str:
    result = _run(args, env)
    if result.returncode != 0:
        raise SystemExit(f"copyloom {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _drafts(
    workspace: str, ask: Ask, variants: int, env: dict[str, str], channels: tuple[str, ...] = CHANNELS
) -> dict[str, Any]:
    args = ["drafts", "create", ask.customer_id, "--workspace", workspace, "--goal", ask.goal]
    args += [a for ch in channels for a in ("--channel", ch)] + ["--variants", str(variants), "--json"]
    if ask.instructions:
        args += ["--instructions", ask.instructions]
    result = _run(args, env)
    if result.returncode == 2:  # the whole request refused (every channel failed alike): one line, code: message
        last = [line for line in result.stderr.splitlines() if line.startswith("error ")][-1:] or [result.stderr]
        code, _, message = last[0].removeprefix("error ").partition(": ")
        errors = [{"channel": ", ".join(channels), "code": code, "message": message}]
        return {"drafts": [], "suppressed": [], "errors": errors}
    if result.returncode != 0:
        raise SystemExit(f"copyloom {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    response: dict[str, Any] = json.loads(result.stdout)
    return response


def _fence(text: str) -> str:
    return "```\n" + text.replace("```", "`\u200b``") + "\n```"


def _render_draft(draft: dict[str, Any]) -> list[str]:
    content = {k: v for k, v in draft["content"].items() if k != "channel" and v not in (None, "", {})}
    lines = [
        f"**variant {draft['variant_index']}** · angle *{draft['angle']}* · verdict **{draft['verdict']}** · "
        f"{draft['status']}",
        "",
        _fence("\n".join(f"{k}: {v}" for k, v in content.items())),
    ]
    for check in draft["guardrail_report"].get("results", []):
        if check.get("verdict") != "pass":
            lines.append(f"- {check['verdict']} `{check['check']}` ({check['reason_code']}): {check['message']}")
    lines.append(f"- cites: {', '.join(draft['cited_fact_ids']) or 'no fact'}")
    notes = [n for n in draft["generator"].get("notes", []) if n != "offline template, no model"]
    lines += [f"- note: {n}" for n in notes]
    lines.append("")
    return lines


def _render(title: str, ask: Ask, response: dict[str, Any]) -> list[str]:
    brief = f"goal `{ask.goal}`" + (f", instructions “{ask.instructions}”" if ask.instructions else "")
    lines = [f"### {title} {ask.customer_id}: {ask.why}", "", f"Brief: {brief}.", ""]
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for draft in response["drafts"]:
        by_channel.setdefault(draft["channel"], []).append(draft)
    for channel, drafts in by_channel.items():
        lines += [f"#### {channel}", ""]
        for draft in sorted(drafts, key=lambda d: d["variant_index"]):
            lines += _render_draft(draft)
    for s in response["suppressed"]:
        lines.append(f"- suppressed {s['channel']}: `{s['reason_code']}` ({s['message']})")
    for e in response["errors"]:
        lines.append(f"- error {e['channel']}: `{e['code']}` ({e['message']})")
    lines.append("")
    return lines


def _summary(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    lines = ["| customer | " + " | ".join(CHANNELS) + " |", "|---" * (len(CHANNELS) + 1) + "|"]
    for label, response in rows:
        cells = []
        for ch in CHANNELS:
            verdicts = [d["verdict"] for d in response["drafts"] if d["channel"] == ch]
            gated = [s["reason_code"] for s in response["suppressed"] if s["channel"] == ch]
            errors = [e["code"] for e in response["errors"] if e["channel"] == ch]
            cells.append(" ".join(verdicts) or " ".join(gated + errors) or "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _retail_file(tmp: Path) -> tuple[Path, bool]:
    if RETAIL_FILE.exists():
        return RETAIL_FILE, True
    sample = (FIXTURES / "online_retail_sample.csv").read_text(encoding="utf-8")
    extra = (FIXTURES / "online_retail_12347.csv").read_text(encoding="utf-8").split("\n", 1)[1]
    path = tmp / "online_retail_sample.csv.gz"
    path.write_bytes(gzip.compress((sample.rstrip("\n") + "\n" + extra).encode("utf-8")))
    return path, False


def _load_retail(path: Path, env: dict[str, str]) -> None:
    """The README "Using it" steps, then the extra channels' grant."""
    _cli(["workspaces", "create", "acme", "--name", "Acme Gifts"], env)
    _cli(["import", "online-retail", str(path), "--workspace", "acme"], env)
    grants = ["--grant", "marketing:email", "--grant", "personalization:email"]
    _cli(
        ["import", "consents", "--workspace", "acme", *grants, "--all", "--source", "Online Retail account sign-up"],
        env,
    )
    extra = [
        a for ch in RETAIL_EXTRA_CHANNELS for g in ("marketing", "personalization") for a in ("--grant", f"{g}:{ch}")
    ]
    _cli(["import", "consents", "--workspace", "acme", *extra, "--all", "--source", "offline samples"], env)
    _cli(["brand", "put", str(ROOT / "examples" / "brand.json"), "--workspace", "acme"], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the markdown here (default: stdout)")
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--skip-retail", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    out = ["# Offline drafts with their guardrail verdicts", ""]
    rows: list[tuple[str, dict[str, Any]]] = []
    body: list[str] = []
    with tempfile.TemporaryDirectory(prefix="offline-samples-") as tmp_name:
        tmp = Path(tmp_name)
        env = _env(tmp / "data")
        _cli(["demo", "--no-serve"], env)
        body += ["## Demo brand (Northwind Outfitters, `copyloom demo`)", ""]
        for ask in DEMO:
            response = _drafts("demo", ask, args.variants, env)
            rows.append((f"demo {ask.customer_id}", response))
            body += _render("Demo", ask, response)
        if not args.skip_retail:
            path, real = _retail_file(tmp)
            _load_retail(path, env)
            source = "the UCI Online Retail file" if real else "the sample in tests/fixtures (no ../shared/data)"
            body += [f"## Online Retail ({source}, README 'Using it' path, brand kit `examples/brand.json`)", ""]
            body += [
                f"Consents: the README's grant (marketing and personalization on email), plus the same on "
                f"{', '.join(RETAIL_EXTRA_CHANNELS)} with source 'offline samples'.",
                "",
            ]
            for ask in RETAIL:
                response = _drafts("acme", ask, args.variants, env)
                rows.append((f"retail {ask.customer_id}", response))
                body += _render("Online Retail customer", ask, response)
        body += ["## Invitations (one email each)", ""]
        for workspace, ask in INVITES + (() if args.skip_retail else RETAIL_INVITES):
            response = _drafts(workspace, ask, 1, env, ("email",))
            body += _render("Demo" if workspace == "demo" else "Online Retail customer", ask, response)
    out += ["Verdicts per channel (one per variant; suppressed channels give the gate's reason):", ""]
    out += _summary(rows) + body
    out.append(f"_Generated by `evals/offline_samples.py` in {time.perf_counter() - started:.0f} s._")
    text = "\n".join(out) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
