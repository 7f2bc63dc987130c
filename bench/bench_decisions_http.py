"""Decision throughput over real HTTP: ``copyloom serve --workers N`` (with a Chroma server, as a multi-process
deployment needs) driven by ``wrk`` (Debian package; a C load generator, so the client takes little CPU).

Every request is a first-time decision for a distinct customer with two approved variants (Thompson sampling),
so each one reads consents, history and events and writes a decision and a contact record.

Run: .venv/bin/python -m bench.bench_decisions_http [--workers 2] [--seconds 10] [--connections 16]
     [--database-url postgresql+psycopg://…]  (a fresh, empty database)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import func, select

from bench.bench_api import seed_approved
from copyloom.api.app import build_services
from copyloom.config import Settings
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_key, create_workspace
from copyloom.models import Decision

LUA = """
local customers = {%(customers)s}
local campaign, key = "%(campaign)s", "%(key)s"
local n, counter = #customers, 0
local threads = %(threads)d
id = 0  -- global on purpose: setup() runs in the main state and thread:set() writes each thread's global
function setup(thread) thread:set("id", id); id = id + 1 end
function init(args) counter = 0 end
request = function()
  local i = (counter * threads + id) %% n + 1
  counter = counter + 1
  local body = string.format('{"campaign_id":"%%s","customer_id":"%%s","channel":"push","idempotency_key":"h%%d-%%d"}',
                             campaign, customers[i], id, counter)
  return wrk.format("POST", "/v1/decisions",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_cpu_seconds(pid: int) -> dict[int, tuple[float, float]]:
    """CPU seconds (user, system) used so far by a process and each of its descendants (Linux /proc), by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[float, float]] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            out[current] = (int(fields[11]) / tick, int(fields[12]) / tick)
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def run_batches(port: int, key: str, campaign: str, customers: list[str], size: int, workers: int) -> None:
    """Two client threads post batches of distinct customers until the customers run out."""
    import json
    import threading

    batches = [customers[i : i + size] for i in range(0, len(customers) - size + 1, size)]
    lock, done, latencies = threading.Lock(), [0], []

    def client() -> None:
        while True:
            with lock:
                if not batches:
                    return
                batch = batches.pop()
            items = [
                {"campaign_id": campaign, "customer_id": c, "channel": "push", "idempotency_key": f"hb-{c}"}
                for c in batch
            ]
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/decisions/batch",
                data=json.dumps({"items": items}).encode(),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            t = time.perf_counter()
            with urllib.request.urlopen(req, timeout=120) as r:
                results = json.load(r)["results"]
            with lock:
                latencies.append(time.perf_counter() - t)
                done[0] += sum(1 for x in results if x.get("result"))

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    print(
        f"decision batches over HTTP, {workers} workers, batches of {size}: {done[0] / elapsed:.0f} decisions/s "
        f"(target >= 500/s); {len(latencies)} batches, median {latencies[len(latencies) // 2] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=12000)
    parser.add_argument("--batch", type=int, default=0, help="send POST /v1/decisions/batch of this size instead")
    parser.add_argument("--py-spy", default=None, help="write a py-spy profile of the server (folded stacks) here")
    parser.add_argument("--database-url", default=None, help="e.g. postgresql+psycopg://…/db (default: SQLite)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    root = Path(tempfile.mkdtemp(prefix="copyloom-http-bench-"))
    bin_dir = Path(sys.executable).parent
    chroma_port, api_port = free_port(), free_port()
    procs = [
        subprocess.Popen(
            [
                str(bin_dir / "chroma"),
                "run",
                "--path",
                str(root / "chroma"),
                "--host",
                "127.0.0.1",
                "--port",
                str(chroma_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        wait_http(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_")}
        env |= {
            "COPYLOOM_DATA_DIR": str(root / "data"),
            "COPYLOOM_CHROMA_URL": f"http://127.0.0.1:{chroma_port}",
            "COPYLOOM_LOG_LEVEL": "WARNING",
        }
        if args.database_url:
            env["COPYLOOM_DATABASE_URL"] = args.database_url
        settings = Settings(
            data_dir=root / "data", chroma_url=env["COPYLOOM_CHROMA_URL"], database_url=args.database_url
        )
        services = build_services(settings)
        with write(services.session_factory) as s:
            create_workspace(s, "acme")
            load_demo(s, "acme")
            s.flush()
            key = create_key(s, "acme", Role.JOURNEY).key
        campaign, customers = seed_approved(services, args.customers)
        services.engine.dispose()
        procs.append(
            subprocess.Popen(
                [str(bin_dir / "copyloom"), "serve", "--port", str(api_port), "--workers", str(args.workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_http(f"http://127.0.0.1:{api_port}/healthz")
        if args.batch:
            run_batches(api_port, key, campaign, customers, args.batch, args.workers)
            return
        script = root / "decisions.lua"
        threads = 2
        script.write_text(
            LUA
            % {"customers": ",".join(f'"{c}"' for c in customers), "campaign": campaign, "key": key, "threads": threads}
        )
        spy = None
        if args.py_spy:
            spy = subprocess.Popen(
                [
                    str(bin_dir / "py-spy"),
                    "record",
                    "--format",
                    "raw",
                    "-o",
                    args.py_spy,
                    "-d",
                    str(args.seconds),
                    "-r",
                    "200",
                    "-p",
                    str(procs[-1].pid),
                    "--subprocesses",
                    "--gil",  # only the thread holding the GIL: where the CPU of this process goes
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        cpu_before = tree_cpu_seconds(procs[-1].pid)
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{api_port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cpu_after = tree_cpu_seconds(procs[-1].pid)
        used = {
            p: (u - cpu_before.get(p, (0, 0))[0], t - cpu_before.get(p, (0, 0))[1]) for p, (u, t) in cpu_after.items()
        }
        server_user, server_system = sum(u for u, _ in used.values()), sum(t for _, t in used.values())
        busiest = sorted((u + t for u, t in used.values()), reverse=True)
        if spy is not None:
            spy.wait(timeout=60)
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        lat = dict(re.findall(r"\s+(50|90|99)%\s+([\d.]+\w+)", out))
        with write(services.session_factory) as s:
            by_kind = dict(s.execute(select(Decision.decision, func.count()).group_by(Decision.decision)).all())
        total = re.search(r"(\d+) requests in", out)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        store = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"decisions over HTTP ({store}), {args.workers} workers, {args.connections} connections, {args.seconds} s: "
            f"{rate:.0f}/s (target >= 500/s); client-side latency p50 {lat.get('50')} p90 {lat.get('90')} "
            f"p99 {lat.get('99')}; {total.group(1) if total else '?'} requests, stored {by_kind}; "
            f"non-2xx {non2xx.group(1) if non2xx else 0}"
        )
        if total:
            # Throughput on a shared host swings with the neighbours; CPU per request is the steadier number.
            n = int(total.group(1))
            print(
                f"server CPU per request: {(server_user + server_system) / n * 1000:.2f} ms "
                f"(user {server_user / n * 1000:.2f}, system {server_system / n * 1000:.2f}); "
                f"{(server_user + server_system) / args.seconds:.2f} cores busy on average; by process "
                + ", ".join(f"{c / args.seconds:.2f}" for c in busiest if c > 0.01 * args.seconds)
            )
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
