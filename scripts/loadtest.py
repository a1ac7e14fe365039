"""Bounded load test of POST /api/ask: N concurrent httpx clients for a fixed duration, questions
rotating through the eval set; prints requests, errors, throughput and latency percentiles.

    .venv/bin/python scripts/loadtest.py                 # starts `rag serve` on a free port itself
    .venv/bin/python scripts/loadtest.py --url http://127.0.0.1:8000 --duration 10
    .venv/bin/python scripts/loadtest.py --bad-every 4   # every 4th request a bad one (issue 13)

With --bad-every N, every Nth request of each client is a bad one (a lone surrogate, an empty or
too-long question, a bad k or retriever, broken JSON, a body that is not UTF-8): each must get its 422,
and the good requests sharing the server's batches with them must all still succeed.

With --churn, documents are added and removed while the clients ask (issue 15): 5 uploads through
POST /api/documents and 2 removals through DELETE, spread over the run; each must succeed, and so must
every question asked meanwhile. The server this script starts then serves a copy of the index with its
own documents folder, so the real index is never touched.

    .venv/bin/python scripts/loadtest.py --churn        # 8 clients, 30 s, 5 uploads, 2 removals

With --overload (issue 24), 8 clients and then 64 ask the same server; each client waits out a 503's
Retry-After (--impatient: asks again at once). It prints each run's good answers a second, p50/p99,
503s, mean batch and the server's own p99, and checks the 64-client goodput >= 0.8 x the 8-client one,
p99 <= 1.5 s, and no error but 503 with Retry-After. --max-queue 8,32,128 repeats it on one server
per RAG_MAX_QUEUE value.

    .venv/bin/python scripts/loadtest.py --overload --duration 15

Exit status 1 when any good request failed or any bad one got something other than its 422 (with
--overload: when a target is not met)."""

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
    bad_sent: int = 0
    shed: int = 0  # 503 + Retry-After: refused past the queue limit, not an error
    lock: threading.Lock = field(default_factory=threading.Lock)


# Bad requests (body bytes), each of which must be answered 422 without harming any other request.
BAD_REQUESTS: list[bytes] = [
    b'{"question": "\\ud800"}',  # a lone surrogate: legal JSON, not text; the tokenizer cannot take it
    b'{"question": "Where is \\udfff the summit?"}',
    b'{"question": ""}',
    b'{"question": "' + b"x" * 1001 + b'"}',
    b'{"question": "Where?", "k": 0}',
    b'{"question": "Where?", "retriever": "magic"}',
    b'{"question": ',
    b'{"question": "Wh\xffere?"}',  # not UTF-8
]


def load_questions(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f if line.strip()]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def client_loop(url: str, questions: list[str], offset: int, deadline: float, body: dict, tally: Tally,
                bad_every: int = 0, honour_retry_after: bool = True) -> None:
    latencies, errors = [], []
    bad_sent = shed = 0
    # Each client starts at a different question so concurrent requests differ.
    rotation = itertools.islice(itertools.cycle(questions), offset, None)
    bad = itertools.islice(itertools.cycle(BAD_REQUESTS), offset, None)
    with httpx.Client(base_url=url, timeout=30.0) as client:
        for n, question in enumerate(rotation, 1):
            if time.perf_counter() >= deadline:
                break
            if bad_every and n % bad_every == 0:
                content = next(bad)
                r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
                bad_sent += 1
                if r.status_code != 422:
                    errors.append(f"bad request {content[:40]!r} got HTTP {r.status_code}: {r.text[:120]}")
                continue
            started = time.perf_counter()
            try:
                r = client.post("/api/ask", json={**body, "question": question})
                if r.status_code == 503:
                    # Shed past the queue limit: fine, if it says when to come back; a polite client does.
                    retry = r.headers.get("retry-after", "")
                    if not retry.isdigit():
                        errors.append(f"HTTP 503 without Retry-After: {r.text[:120]}")
                        continue
                    shed += 1
                    if honour_retry_after:
                        time.sleep(min(float(retry), max(0.0, deadline - time.perf_counter())))
                    continue
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
        tally.bad_sent += bad_sent
        tally.shed += shed


# Clients per load process: Python threads share one interpreter lock, so 64 clients in one process
# would time their own waits for it as server latency; past 8 the clients run in several processes.
CLIENTS_PER_PROCESS = 8


def _client_group(url: str, questions: list[str], offsets: list[int], duration: float, body: dict,
                  honour_retry_after: bool) -> tuple[list[float], list[str], int]:
    tally = Tally()
    deadline = time.perf_counter() + duration
    threads = [threading.Thread(target=client_loop, args=(url, questions, offset, deadline, body, tally, 0,
                                                          honour_retry_after)) for offset in offsets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally.latencies, tally.errors, tally.shed


def run(url: str, questions: list[str], clients: int, duration: float, body: dict,
        bad_every: int = 0, churn: list[str] | None = None, honour_retry_after: bool = True) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    deadline = started + duration
    step = max(1, len(questions) // clients)
    if clients > CLIENTS_PER_PROCESS and churn is None and not bad_every:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        offsets = [(i * step) % len(questions) for i in range(clients)]
        groups = [offsets[i:i + CLIENTS_PER_PROCESS] for i in range(0, clients, CLIENTS_PER_PROCESS)]
        with ProcessPoolExecutor(len(groups), mp_context=multiprocessing.get_context("fork")) as pool:
            for latencies, errors, shed in pool.map(_client_group, *zip(*[
                    (url, questions, g, duration, body, honour_retry_after) for g in groups])):
                tally.latencies.extend(latencies)
                tally.errors.extend(errors)
                tally.shed += shed
        return tally, time.perf_counter() - started
    threads = [threading.Thread(target=client_loop, args=(url, questions, (i * step) % len(questions), deadline, body,
                                                          tally, bad_every, honour_retry_after))
               for i in range(clients)]
    if churn is not None:
        threads.append(threading.Thread(target=churn_loop, args=(url, deadline, tally, churn)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - started


UPLOADS, REMOVALS = 5, 2


def churn_loop(url: str, deadline: float, tally: Tally, done: list[str]) -> None:
    """5 uploads and 2 removals spread over the run; any failure is an error of the run."""
    steps = [("add", i) for i in range(UPLOADS)] + [("remove", i) for i in range(REMOVALS)]
    gap = max(0.0, (deadline - time.perf_counter()) / (len(steps) + 1))
    stamp = f"{os.getpid()}-{int(time.time())}"
    with httpx.Client(base_url=url, timeout=120.0) as client:
        for action, i in steps:
            time.sleep(gap)
            name = f"churn-{stamp}-{i}.md"
            try:
                if action == "add":
                    text = (f"# Churn note {i}\n\nThe load test wrote note number {i} at {stamp}; "
                            f"it names the code word churn{i}x{stamp}.\n")
                    r = client.post("/api/documents", files=[("files", (name, text.encode(), "text/markdown"))])
                    # Answered at once (202) with a job; the upload is done when its job is.
                    ok = r.status_code == 202
                    while ok and r.json()["state"] not in ("done", "failed"):
                        time.sleep(0.2)
                        r = client.get(r.json()["url"])
                    ok = ok and r.json()["state"] == "done"
                else:
                    r = client.delete(f"/api/documents/{name[:-3]}")
                    ok = r.status_code == 200
                if ok:
                    done.append(f"{action} {name}")
                else:
                    with tally.lock:
                        tally.errors.append(f"{action} {name}: HTTP {r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as exc:
                with tally.lock:
                    tally.errors.append(f"{action} {name}: {type(exc).__name__}: {exc}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(index_dir: Path, documents_dir: Path | None = None,
           extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """`rag serve` in a child process on a free loopback port, until the block ends: (url, pid)."""
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    if documents_dir is not None:
        env["RAG_DOCUMENTS_DIR"] = str(documents_dir)
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--index-dir", str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL, env=env)
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
        "requests": n + len(tally.errors) + tally.shed,
        "errors": len(tally.errors),
        "shed_503": tally.shed,
        "bad_requests": tally.bad_sent,
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
    parser.add_argument("--bad-every", type=int, default=0, metavar="N",
                        help="make every Nth request of each client a bad one that must get 422 (default: none)")
    parser.add_argument("--churn", action="store_true",
                        help=f"add {UPLOADS} and remove {REMOVALS} documents during the run (a copy of the index)")
    parser.add_argument("--overload", action="store_true",
                        help="8 clients, then 64 on the same server: goodput, p99 and 503s of each (issue 24)")
    parser.add_argument("--max-queue", default="", metavar="N,N,...",
                        help="with --overload: one server per RAG_MAX_QUEUE value, to measure the limit")
    parser.add_argument("--impatient", action="store_true",
                        help="clients retry a 503 at once instead of after its Retry-After")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.clients < 1 or args.bad_every < 0:
        parser.error("--duration must be positive, --clients at least 1 and --bad-every at least 0")

    questions = load_questions(args.questions)
    body = {key: value for key, value in (("k", args.k), ("retriever", args.retriever)) if value is not None}

    def measure(url: str, server_pid: int | None, clients: int | None = None) -> dict:
        clients = clients or args.clients
        if args.warmup > 0:
            run(url, questions, clients, args.warmup, body, honour_retry_after=not args.impatient)
        # CPU seconds per request do not depend on what else the machine runs, unlike latency.
        server = psutil.Process(server_pid) if server_pid else None
        server_cpu, client_cpu = (sum(server.cpu_times()[:2]) if server else 0.0), time.process_time()
        churned: list[str] | None = [] if args.churn else None
        before = httpx.get(url + "/healthz").json().get("batching") or {}
        tally, elapsed = run(url, questions, clients, args.duration, body, args.bad_every, churned,
                             honour_retry_after=not args.impatient)
        after = httpx.get(url + "/healthz").json().get("batching") or {}
        figures = report(tally, elapsed, clients)
        batches = after.get("batches", 0) - before.get("batches", 0)
        figures["mean_batch"] = round((after.get("questions", 0) - before.get("questions", 0)) / batches, 2) if batches else 0.0
        # The server's own p99 from ask to answer (its answers of the last 10 s): beside the clients'
        # p99 it tells the server's queueing from a starved client machine's.
        figures["server_p99_ms"] = after.get("p99_ms_recent", float("nan"))
        if churned is not None:
            figures["churn_done"] = len(churned)
            if len(churned) != UPLOADS + REMOVALS and not tally.errors:
                tally.errors.append(f"only {len(churned)} of {UPLOADS + REMOVALS} uploads and removals finished in time")
            figures["errors"] = len(tally.errors)
        done = max(1, len(tally.latencies))
        figures["client_cpu_ms"] = round(1000 * (time.process_time() - client_cpu) / done, 2)
        if server:
            figures["server_cpu_ms"] = round(1000 * (sum(server.cpu_times()[:2]) - server_cpu) / done, 2)
        figures["load_average"] = round(os.getloadavg()[0], 2)
        figures["first_errors"] = tally.errors[:3]
        return figures

    if args.overload:
        return overload(args, measure)
    if args.url:
        figures = measure(args.url.rstrip("/"), None)
    elif args.churn:
        import shutil
        import tempfile

        # Uploads change the index: the server gets a copy and a documents folder of its own.
        with tempfile.TemporaryDirectory(prefix="rag-churn-") as tmp:
            copy = Path(tmp) / "index"
            shutil.copytree(args.index_dir, copy, ignore=shutil.ignore_patterns(".tmp-*", "*.lock"))
            with served(copy, Path(tmp) / "documents") as (url, pid):
                figures = measure(url, pid)
    else:
        with served(args.index_dir) as (url, pid):
            figures = measure(url, pid)

    if args.json:
        print(json.dumps(figures))
    else:
        print(f"POST /api/ask  {figures['clients']} clients  {figures['seconds']} s")
        print(f"requests   {figures['requests']}")
        print(f"errors     {figures['errors']}")
        if "churn_done" in figures:
            print(f"churn      {figures['churn_done']} of {UPLOADS + REMOVALS} uploads and removals done while asking")
        if args.bad_every:
            print(f"bad        {figures['bad_requests']} sent (each must get 422; any other status is an error)")
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


OVERLOAD_RATIO, OVERLOAD_P99_MS = 0.8, 1500.0


def overload(args: argparse.Namespace, measure) -> int:
    """8 clients then 64 on one server (one server per --max-queue value): the good answers per second
    of each, their p99, the 503s (each must carry Retry-After), the mean batch the server formed."""
    queues = [q.strip() for q in args.max_queue.split(",") if q.strip()] or [""]
    failed = False
    print(f"POST /api/ask, {args.duration:g} s a run after {args.warmup:g} s of warm-up; clients "
          f"{'retry at once' if args.impatient else 'honour Retry-After'}")
    print(f"{'max_queue':>9} {'clients':>7} {'good/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'503s':>6} {'errors':>6} "
          f"{'batch':>5} {'server p99':>10}  64 vs 8")
    for queue in queues:
        env = {"RAG_MAX_QUEUE": queue} if queue else {}
        if args.url:
            pair = [measure(args.url.rstrip("/"), None, c) for c in (8, 64)]
        else:
            with served(args.index_dir, extra_env=env) as (url, pid):
                pair = [measure(url, pid, c) for c in (8, 64)]
        ratio = pair[1]["throughput_rps"] / pair[0]["throughput_rps"] if pair[0]["throughput_rps"] else 0.0
        for f in pair:
            print(f"{queue or 'default':>9} {f['clients']:>7} {f['throughput_rps']:>7} {f['p50_ms']:>7} {f['p99_ms']:>7} "
                  f"{f['shed_503']:>6} {f['errors']:>6} {f['mean_batch']:>5} {f['server_p99_ms']:>10}"
                  + (f"  {ratio:.2f}" if f is pair[1] else ""))
            for error in f["first_errors"]:
                print(f"  error: {error}")
        met = (ratio >= OVERLOAD_RATIO and pair[1]["p99_ms"] <= OVERLOAD_P99_MS
               and not pair[0]["errors"] and not pair[1]["errors"])
        failed |= not met
        print(f"{'':>9} targets (64-client goodput >= {OVERLOAD_RATIO} x 8-client, p99 <= {OVERLOAD_P99_MS:g} ms, "
              f"no error but 503 + Retry-After): {'met' if met else 'NOT met'}")
    print(f"machine    load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (other work slows this run)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
