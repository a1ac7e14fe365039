"""Bounded load test of POST /api/ask: N concurrent httpx clients for a fixed duration, questions
rotating through the eval set; prints requests, errors, throughput and latency percentiles.

    .venv/bin/python scripts/loadtest.py                 # starts `rag serve` on a free port itself
    .venv/bin/python scripts/loadtest.py --url http://127.0.0.1:8000 --duration 10

Exit status 1 when any request failed."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
TARGET_RPS = 40.0
TARGET_P99_MS = 250.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def load_questions(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def client_loop(url: str, questions: list[str], offset: int, deadline: float, body: dict, tally: Tally) -> None:
    latencies, errors = [], []
    # Each client starts at a different question so concurrent requests differ.
    rotation = itertools.islice(itertools.cycle(questions), offset, None)
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for question in rotation:
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            try:
                r = client.post("/api/ask", json={**body, "question": question})
                ok = r.status_code == 200 and "passages" in r.json()
                if not ok:
                    errors.append(f"HTTP {r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
    with tally.lock:
        tally.latencies.extend(latencies)
        tally.errors.extend(errors)


def run(url: str, questions: list[str], clients: int, duration: float, body: dict) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    step = max(1, len(questions) // clients)
    threads = [threading.Thread(target=client_loop, args=(url, questions, i * step, deadline, body, tally))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(index_dir: Path) -> Iterator[tuple[str, int]]:
    """`rag serve` in a child process on a free loopback port, until the block ends: (url, pid)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--index-dir", str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"error: rag serve exited with status {proc.returncode}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("error: the server did not become ready within 180 s")
            time.sleep(0.5)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def report(tally: Tally, elapsed: float, clients: int) -> dict:
    lat = sorted(tally.latencies)
    n = len(lat)
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": n + len(tally.errors),
        "errors": len(tally.errors),
        "throughput_rps": round(n / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(1000 * percentile(lat, 50), 1),
        "p95_ms": round(1000 * percentile(lat, 95), 1),
        "p99_ms": round(1000 * percentile(lat, 99), 1),
        "max_ms": round(1000 * lat[-1], 1) if lat else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=None, help="a running server; default: start `rag serve` on a free port")
    parser.add_argument("--index-dir", type=Path, default=Path(os.environ.get("RAG_INDEX_DIR", ROOT / "index")),
                        help="index for the server this script starts (default: index/)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of untimed load first (default 3)")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("-k", type=int, default=None, help="passages per answer (default: the server's)")
    parser.add_argument("--retriever", default=None, help="hybrid, dense or bm25 (default: the server's)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.clients < 1:
        parser.error("--duration must be positive and --clients at least 1")

    questions = load_questions(args.questions)
    body = {key: value for key, value in (("k", args.k), ("retriever", args.retriever)) if value is not None}

    def measure(url: str, server_pid: int | None) -> dict:
        if args.warmup > 0:
            run(url, questions, args.clients, args.warmup, body)
        # CPU seconds per request do not depend on what else the machine runs, unlike latency.
        server = psutil.Process(server_pid) if server_pid else None
        server_cpu, client_cpu = (sum(server.cpu_times()[:2]) if server else 0.0), time.process_time()
        tally, elapsed = run(url, questions, args.clients, args.duration, body)
        figures = report(tally, elapsed, args.clients)
        done = max(1, len(tally.latencies))
        figures["client_cpu_ms"] = round(1000 * (time.process_time() - client_cpu) / done, 2)
        if server:
            figures["server_cpu_ms"] = round(1000 * (sum(server.cpu_times()[:2]) - server_cpu) / done, 2)
        figures["load_average"] = round(os.getloadavg()[0], 2)
        figures["first_errors"] = tally.errors[:3]
        return figures

    if args.url:
        figures = measure(args.url.rstrip("/"), None)
    else:
        with served(args.index_dir) as (url, pid):
            figures = measure(url, pid)

    if args.json:
        print(json.dumps(figures))
    else:
        print(f"POST /api/ask  {figures['clients']} clients  {figures['seconds']} s")
        print(f"requests   {figures['requests']}")
        print(f"errors     {figures['errors']}")
        print(f"throughput {figures['throughput_rps']} req/s   (target >= {TARGET_RPS:g})")
        print(f"latency    p50 {figures['p50_ms']} ms   p95 {figures['p95_ms']} ms   p99 {figures['p99_ms']} ms   "
              f"max {figures['max_ms']} ms   (target p99 <= {TARGET_P99_MS:g})")
        cpu = f"client {figures['client_cpu_ms']} ms"
        if "server_cpu_ms" in figures:
            total = figures["server_cpu_ms"] + figures["client_cpu_ms"]
            cores = os.cpu_count() or 1
            cpu = (f"server {figures['server_cpu_ms']} ms + {cpu} = {total:.2f} ms, so the CPU-bound ceiling on {cores} idle cores "
                   f"is about {1000 * cores / total:.0f} req/s")
        print(f"cpu/req    {cpu}")
        print(f"machine    load average {figures['load_average']} on {os.cpu_count()} cores (other work slows this run)")
        for error in figures["first_errors"]:
            print(f"  error: {error}")
        met = (figures["errors"] == 0 and figures["throughput_rps"] >= TARGET_RPS
               and figures["p99_ms"] <= TARGET_P99_MS)
        print("targets    " + ("met" if met else "NOT met"))
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
