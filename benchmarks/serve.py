"""`GET /search` over HTTP with the real model: one client, then 16 concurrent clients.

    .venv/bin/python benchmarks/serve.py [--backends onnx-int8,torch] [--clients 16]
        [--single 120] [--requests 480] [--rounds 2] [--cache DIR] [--keep DIR]
        [--before PYTHON]

For each embedding backend (default: the served default `onnx-int8` and `torch`, the plain
sentence-transformers path it replaced) the benchmark crawls the bundled mirror into its own
data folder with the real model (`samsok crawl --mirror`, skipped when `--keep` already holds
it), starts `samsok serve` on loopback, and measures with an HTTP client in this process:

- one client, one request at a time: p50/p95 of hybrid and lexical `GET /search`
- `--clients` concurrent clients (one keep-alive connection each) sending hybrid searches
  back to back: searches/s, p50, p95

`--before PYTHON` also serves the first backend with another interpreter's install of Samsøk
(e.g. `/work/main/.venv/bin/python`: the code before a change), from its own copy of the
index, measured in the same rounds as the others: the before → after figures of one run.

Every query text is new to the server (a Norwegian word mix plus a serial number), so the
query-vector cache never answers: each hybrid request pays its embedding. Both servers run
for the whole benchmark and are measured in turn, round by round, so a change in the shared
machine's load hits both alike; read the ratios. Latency is measured at the client (the
client shares the 2 cores with the server: it costs ~1 ms a request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _table import percentiles, print_header

ROOT = Path(__file__).resolve().parent.parent
# Words of the domain, each found in the mirror: queries mix 2-4 of them (cache misses).
WORDS = (
    "samhandling",
    "kommune",
    "sykehjem",
    "legevakt",
    "helsehjelp",
    "hjemmesykepleie",
    "rehabilitering",
    "fastlege",
    "pasient",
    "avtale",
    "utskrivning",
    "kreft",
    "koordinator",
    "barn",
    "familie",
    "psykisk",
    "rus",
    "tjeneste",
    "omsorg",
    "eldre",
    "jordmor",
    "døgnopphold",
    "akutt",
    "sykehus",
    "Værnes",
    "Orkdal",
    "Stjørdal",
    "Malvik",
    "Selbu",
    "Tydal",
    "Meråker",
    "Frosta",
    "Skaun",
    "Melhus",
    "Orkland",
    "Snillfjord",
    "årsmelding",
    "kompetanse",
    "fagnettverk",
    "samarbeidsavtale",
    "helseforetak",
    "kommunehelsetjeneste",
    "korttidsopphold",
    "trygghetsalarm",
    "ergoterapi",
    "fysioterapi",
    "velferdsteknologi",
    "demens",
    "lindrende",
    "behandling",
    "habilitering",
    "opplæring",
    "hospitering",
    "beredskap",
    "smittevern",
)
TEMPLATES = ("{}", "hva er {}", "hvordan fungerer {}", "kva gjeld for {}", "{} i kommunen")


def queries(seed: int, count: int) -> list[str]:
    """`count` distinct queries: 2-4 domain words in a template, and a serial number."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        words = " ".join(rng.sample(WORDS, rng.randint(2, 4)))
        out.append(f"{rng.choice(TEMPLATES).format(words)} {seed}{i}")
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _process_tree(pid: int) -> list[int]:
    """`pid` and its living descendants (`samsok serve`'s worker processes)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in children.read_text().split()]
            except OSError:  # the thread or process just ended
                continue
    return found


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0
    return int(fields[11]) + int(fields[12])


@dataclass
class Server:
    backend: str
    data: Path
    env: dict[str, str]
    python: str = sys.executable  # whose install of Samsøk serves
    label: str = ""
    proc: subprocess.Popen[bytes] | None = None
    base: str = ""
    crawl_s: float | None = None
    start_s: float = 0.0
    single: dict[str, list[float]] = field(default_factory=lambda: {"hybrid": [], "lexical": []})
    crowd: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    # server CPU seconds (all its threads) and requests, per phase
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"hybrid": [], "crowd": []})

    def cpu_seconds(self) -> float:
        """CPU time the server has used (user + system, all threads), its worker processes
        included."""
        assert self.proc is not None
        return sum(_cpu_ticks(pid) for pid in _process_tree(self.proc.pid)) / os.sysconf(
            "SC_CLK_TCK"
        )

    def __post_init__(self) -> None:
        self.label = self.label or self.backend

    def cli(self, *args: str) -> list[str]:
        return [self.python, "-m", "samsok.api.cli", *args]

    def crawl(self) -> None:
        if (self.data / "store.db").exists():
            return
        started = time.perf_counter()
        with (self.data.parent / "crawl.log").open("wb") as log:
            subprocess.run(
                self.cli("crawl", "--mirror"),
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=log,
                stderr=log,
            )
        self.crawl_s = time.perf_counter() - started

    def start(self) -> None:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        log = (self.data.parent / "serve.log").open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.cli("serve", "--port", str(port)), cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{self.label} server did not start; see {log.name}")
            time.sleep(0.2)
        # The model loads on the first search that embeds (lazy): that is part of start-up.
        httpx.get(f"{self.base}/search", params={"q": "oppstart"}, timeout=300).raise_for_status()
        self.start_s = time.perf_counter() - started
        # Each worker process (SAMSOK_SERVE_WORKERS) loads its own model on its first search:
        # concurrent first searches on new connections reach them all before measuring.
        asyncio.run(_warm_every_worker(self.base))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _warm_every_worker(base: str, connections: int = 16) -> None:
    async def first_search(n: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            response = await client.get("/search", params={"q": f"oppvarming {n}"})
            response.raise_for_status()

    for _ in range(2):
        await asyncio.gather(*(first_search(n) for n in range(connections)))


async def _one_client(server: Server, mode: str, texts: list[str]) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:
        for q in texts:
            started = time.perf_counter()
            response = await client.get("/search", params={"q": q, "mode": mode})
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _crowd(server: Server, texts: list[str], clients: int) -> tuple[list[float], float]:
    """`clients` connections sending `texts` (shared queue) back to back."""
    queue = list(reversed(texts))
    latencies: list[float] = []

    async def client_loop(client: httpx.AsyncClient) -> None:
        while queue:
            q = queue.pop()
            started = time.perf_counter()
            response = await client.get("/search", params={"q": q, "mode": "hybrid"})
            response.raise_for_status()
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.base, timeout=120, limits=limits) as client:
        # one warm connection per client before the clock starts
        await asyncio.gather(*(client.get("/health") for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="onnx-int8,torch", help="first one is 'now'")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--single", type=int, default=120, help="one-client requests per round")
    parser.add_argument("--requests", type=int, default=480, help="crowd requests per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=None, help="model cache (SAMSOK_*)")
    parser.add_argument("--keep", type=Path, default=None, help="keep/reuse data folders here")
    parser.add_argument(
        "--before", default=None, help="also serve the first backend with this interpreter"
    )
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    work = args.keep or Path(tempfile.mkdtemp(prefix="samsok-serve-"))
    cache = args.cache or work / "models"
    servers = []
    runs = [(backend, sys.executable, backend) for backend in backends]
    if args.before:
        runs.append((backends[0], args.before, f"before:{backends[0]}"))
    for backend, python, label in runs:
        data = work / label.replace(":", "-") / "data"
        data.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "SAMSOK_DATA_DIR": str(data),
            "SAMSOK_MODEL_CACHE_DIR": str(cache),
            "SAMSOK_EMBED_BACKEND": backend,
            "SAMSOK_LOG_LEVEL": "WARNING",
        }
        servers.append(Server(backend, data, env, python, label))
    print(f"load average at start: {load_average()}", file=sys.stderr)
    try:
        for s in servers:
            s.crawl()  # one at a time: each embeds the mirror with its model
            print(f"{s.label}: index ready", file=sys.stderr)
        for s in servers:
            s.start()
            print(f"{s.label}: serving at {s.base}", file=sys.stderr)
        for r in range(args.rounds):
            for s in servers:
                for mode in ("hybrid", "lexical"):
                    texts = queries(1000 * r + len(mode), args.single)
                    cpu = s.cpu_seconds()
                    s.single[mode] += asyncio.run(_one_client(s, mode, texts))
                    if mode == "hybrid":
                        s.cpu["hybrid"].append((s.cpu_seconds() - cpu) / len(texts))
            for s in servers:
                cpu = s.cpu_seconds()
                latencies, rate = asyncio.run(
                    _crowd(s, queries(1000 * r + 77, args.requests), args.clients)
                )
                s.cpu["crowd"].append((s.cpu_seconds() - cpu) / args.requests)
                s.crowd += latencies
                s.rates.append(rate)
            print(f"round {r + 1} done; load average {load_average()}", file=sys.stderr)
        load_end = load_average()
    finally:
        for s in servers:
            s.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    report(servers, args, load_end)


def report(servers: list[Server], args: argparse.Namespace, load_end: str) -> None:
    now, *others = servers
    print(
        f"\nGET /search over loopback HTTP, bundled mirror index, real model; {args.rounds} "
        f"rounds of {args.single} one-client requests per mode and {args.requests} requests "
        f"from {args.clients} clients; every query new (cache misses); load average at the "
        f"end {load_end}"
    )
    print_header(
        "server:<17|crawl s:>7|start s:>7|hyb p50:>8|hyb p95:>8|lex p50:>8|lex p95:>8|"
        f"{args.clients:>3}c q/s:>7|{args.clients:>3}c p50:>7|{args.clients:>3}c p95:>7"
    )
    for s in servers:
        hyb, lex, crowd = (
            percentiles(s.single["hybrid"]),
            percentiles(s.single["lexical"]),
            percentiles(s.crowd),
        )
        crawl = f"{s.crawl_s:7.1f}" if s.crawl_s is not None else "      –"
        print(
            f"{s.label:<17} {crawl} {s.start_s:7.1f} {hyb[0]:8.1f} {hyb[1]:8.1f} "
            f"{lex[0]:8.1f} {lex[1]:8.1f} {statistics.median(s.rates):7.1f} "
            f"{crowd[0]:7.1f} {crowd[1]:7.1f}"
        )
    print(
        "\nserver CPU per search (all its threads; what bounds a quiet 2-core machine: "
        "2000 / ms = searches/s at full use)"
    )
    for s in servers:
        one = 1000 * statistics.median(s.cpu["hybrid"])
        crowd_ms = 1000 * statistics.median(s.cpu["crowd"])
        print(
            f"{s.label:<17} one client hybrid {one:6.1f} ms; {args.clients} clients "
            f"{crowd_ms:6.1f} ms -> at most {2000 / crowd_ms:5.0f} searches/s on 2 idle cores"
        )
    for other in others:
        print(f"\nratios {other.label} / {now.label} (higher: {now.label} is faster)")
        pairs = [
            (
                "hybrid p50",
                percentiles(other.single["hybrid"])[0],
                percentiles(now.single["hybrid"])[0],
            ),
            (
                "hybrid p95",
                percentiles(other.single["hybrid"])[1],
                percentiles(now.single["hybrid"])[1],
            ),
            ("crowd p50", percentiles(other.crowd)[0], percentiles(now.crowd)[0]),
            ("crowd p95", percentiles(other.crowd)[1], percentiles(now.crowd)[1]),
            ("searches/s", statistics.median(now.rates), statistics.median(other.rates)),
            (
                "server CPU one client",
                statistics.median(other.cpu["hybrid"]),
                statistics.median(now.cpu["hybrid"]),
            ),
            (
                f"server CPU {args.clients} clients",
                statistics.median(other.cpu["crowd"]),
                statistics.median(now.cpu["crowd"]),
            ),
        ]
        print("  " + ", ".join(f"{name} {a / b:.2f}x" for name, a, b in pairs))
    print(
        "targets: hybrid p50 <= 15 ms, p95 <= 40 ms; "
        f"{args.clients} clients >= 60 searches/s with p95 <= 150 ms"
    )


if __name__ == "__main__":
    main()
