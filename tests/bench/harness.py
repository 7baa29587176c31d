"""Runs every comparison and prints the table.

A comparison measures a candidate server against a baseline server on the same path, with the
same process setup and the same load, in alternating rounds after a warm-up. Its figure is the
median requests/s of the candidate divided by the median of the baseline. A figure below its
target is reported, never turned into a failure: the exit code only says whether the harness
itself could measure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from service.config import ROOT
from tests.bench import load, procs, report, servers
from tests.bench.environment import AppEnvironment
from tests.bench.servers import BenchError, RunningServer, ServerSpec

APP = ServerSpec(
    name="app",
    description="service.app:create_app, full middleware stack and lifespan",
    target="service.app:create_app",
    factory=True,
    # /readyz answering 200 proves the lifespan connected the database and Redis.
    ready_paths=("/healthz", "/readyz"),
)
BARE = ServerSpec(
    name="bare",
    description="bare Starlette app, one route returning the same JSON",
    target="tests.bench.bare:app",
)


@dataclass(frozen=True)
class Comparison:
    figure: str
    path: str
    candidate: ServerSpec
    baseline: ServerSpec
    target: float


COMPARISONS = [
    Comparison(
        figure="req/s on /healthz, full app / bare Starlette",
        path="/healthz",
        candidate=APP,
        baseline=BARE,
        target=0.8,
    ),
]

# Below this share of its core, a server was not the bottleneck of its run.
SATURATED = 0.90


@dataclass(frozen=True)
class Options:
    rounds: int
    duration: float
    warmup: float
    connections: int
    loadgen: str


@dataclass(frozen=True)
class Run:
    round: int
    server: str
    result: load.LoadResult
    # Shares of the server's core: used by the server, and by anything else (None: not pinned).
    server_cpu: float
    others_cpu: float | None

    @property
    def core_busy(self) -> float:
        return self.server_cpu + (self.others_cpu or 0.0)

    @property
    def per_cpu_second(self) -> float:
        """Requests per second of server CPU: barely moved by other processes on the core."""
        return self.result.rps / self.server_cpu if self.server_cpu > 0 else 0.0

    @property
    def crowded(self) -> bool:
        return self.others_cpu is not None and self.others_cpu > 1 - SATURATED


@dataclass
class Outcome:
    comparison: Comparison
    runs: list[Run] = field(default_factory=list)

    def of(self, server: str) -> list[Run]:
        return [run for run in self.runs if run.server == server]

    def median_rps(self, server: str) -> float:
        return statistics.median(run.result.rps for run in self.of(server))

    def median_ms(self, server: str, which: str) -> float | None:
        values = [
            value for run in self.of(server) if (value := getattr(run.result, which)) is not None
        ]
        return statistics.median(values) if values else None

    @property
    def ratio(self) -> float:
        baseline = self.median_rps(self.comparison.baseline.name)
        return self.median_rps(self.comparison.candidate.name) / baseline if baseline else 0.0

    @property
    def cpu_ratio(self) -> float:
        """Like `ratio`, per second of server CPU instead of per second of wall time."""
        candidate, baseline = (
            statistics.median(run.per_cpu_second for run in self.of(spec.name))
            for spec in (self.comparison.candidate, self.comparison.baseline)
        )
        return candidate / baseline if baseline else 0.0

    @property
    def crowded(self) -> bool:
        """Other processes took a share of the servers' core in a typical run of either side."""
        return any(
            statistics.median(run.others_cpu or 0.0 for run in self.of(spec.name)) > 1 - SATURATED
            for spec in (self.comparison.candidate, self.comparison.baseline)
        )

    @property
    def conclusive(self) -> bool:
        """False when the load generator, not the server, set the pace (its core idled, or the
        server had spare CPU while the generator used all of its own)."""
        for spec in (self.comparison.candidate, self.comparison.baseline):
            runs = self.of(spec.name)
            if statistics.median(run.core_busy for run in runs) < SATURATED:
                return False
            server = statistics.median(run.server_cpu for run in runs)
            generator = statistics.median(run.result.cpu for run in runs)
            if server < SATURATED and generator >= SATURATED:
                return False
        return True

    @property
    def verdict(self) -> str:
        if not self.conclusive or self.crowded:
            return "n/a"
        return "yes" if self.ratio >= self.comparison.target else "NO"

    def round_ratios(self) -> list[float]:
        candidate = {run.round: run.result.rps for run in self.of(self.comparison.candidate.name)}
        baseline = {run.round: run.result.rps for run in self.of(self.comparison.baseline.name)}
        return [candidate[r] / baseline[r] for r in sorted(candidate) if baseline.get(r)]


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Benchmark figures, each a ratio against a baseline measured in the same run.",
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per server")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per server")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "httpx"],
        default="auto",
        help="auto: wrk when installed, else the httpx load generator",
    )
    args = parser.parse_args(argv)
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 30 and 0 <= args.warmup <= 30):
        parser.error("rounds 1-20, duration 1-30 s, warm-up 0-30 s")
    if not 1 <= args.connections <= 1024:
        parser.error("connections 1-1024")
    return Options(args.rounds, args.duration, args.warmup, args.connections, args.loadgen)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _measure(
    server: RunningServer,
    generator: load.LoadGenerator,
    path: str,
    *,
    duration: float,
    connections: int,
    core: int | None,
) -> tuple[load.LoadResult, float, float | None]:
    """One load run; also how busy the server's core was, by the server and by the rest."""
    server.check_alive()
    core_before = procs.core_busy_seconds(core) if core is not None else 0.0
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    result = generator.run(server.base_url + path, duration=duration, connections=connections)
    wall = time.monotonic() - started
    server.check_alive()
    used = server.cpu_seconds() - cpu_before
    others = None
    if core is not None and wall > 0:
        others = max(0.0, procs.core_busy_seconds(core) - core_before - used) / wall
    if result.requests == 0 or result.errors >= result.requests:
        raise BenchError(f"no successful request to {server.spec.name} {path}")
    return result, (used / wall if wall > 0 else 0.0), others


def _same_answer(comparison: Comparison, running: dict[str, RunningServer]) -> None:
    """Both servers must answer the path alike, or the figure compares different work."""
    answers = {
        spec.name: servers.fetch(running[spec.name].base_url + comparison.path)
        for spec in (comparison.candidate, comparison.baseline)
    }
    first, second = answers.values()
    if first.status != 200 or (first.status, first.content_type, first.body) != (
        second.status,
        second.content_type,
        second.body,
    ):
        raise BenchError(f"{comparison.path} answers differ: {answers}")


def compare(
    comparison: Comparison,
    running: dict[str, RunningServer],
    generator: load.LoadGenerator,
    options: Options,
    core: int | None,
) -> Outcome:
    _same_answer(comparison, running)
    order = (comparison.candidate, comparison.baseline)
    outcome = Outcome(comparison)
    if options.warmup > 0:
        for spec in order:
            _progress(f"  warm-up  {spec.name:<5} {options.warmup:g} s")
            _measure(
                running[spec.name],
                generator,
                comparison.path,
                duration=options.warmup,
                connections=options.connections,
                core=core,
            )
    for number in range(1, options.rounds + 1):
        for spec in order:
            result, busy, others = _measure(
                running[spec.name],
                generator,
                comparison.path,
                duration=options.duration,
                connections=options.connections,
                core=core,
            )
            outcome.runs.append(Run(number, spec.name, result, busy, others))
            _progress(
                f"  round {number}  {spec.name:<5} {report.rate(result.rps):>8} req/s"
                f"  (server {report.percent(busy)} of its core)"
            )
    return outcome


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT (also when inherited as ignored), SIGTERM and SIGHUP all stop the servers."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {
        sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _server_stack() -> str:
    parts = []
    for module in ("httptools", "uvloop"):
        try:
            __import__(module)
        except ImportError:
            continue
        parts.append(module)
    import uvicorn

    extras = f" ({', '.join(parts)})" if parts else ""
    return f"uvicorn {uvicorn.__version__}{extras}"


def header(
    options: Options, pinning: procs.Pinning, generator: load.LoadGenerator, env: AppEnvironment
) -> str:
    rounds = f"{options.rounds} rounds of {options.duration:g} s"
    return "\n".join(
        [
            "Civic Challenges benchmark: one run on this machine; "
            "each figure is a ratio against a baseline measured in the same run",
            f"  machine   {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}",
            f"  servers   one {_server_stack()} process each, --no-access-log --log-level warning",
            f"  pinning   {pinning.note}",
            f"  load      {generator.describe()}, {options.connections} connections, "
            f"127.0.0.1 only",
            f"  schedule  {options.warmup:g} s warm-up per server, then {rounds}, "
            "servers alternating",
            *(
                f"  compared  {c.candidate.name}: {c.candidate.description}; "
                f"{c.baseline.name}: {c.baseline.description}"
                for c in COMPARISONS
            ),
            f"  app       {APP.target} with its lifespan; SQLite {env.database_url}, "
            f"embedded Redis {env.redis_url}, "
            f"LOG_LEVEL={os.environ.get('LOG_LEVEL') or 'INFO (default)'}",
        ]
    )


def runs_table(outcomes: list[Outcome]) -> str:
    rows = [
        [
            str(run.round),
            run.server,
            report.rate(run.result.rps),
            report.millis(run.result.p50_ms),
            report.millis(run.result.p99_ms),
            str(run.result.errors),
            report.percent(run.server_cpu),
            "n/a" if run.others_cpu is None else report.percent(run.others_cpu),
            report.percent(run.result.cpu),
        ]
        for outcome in outcomes
        for run in outcome.runs
    ]
    headers = [
        "round",
        "server",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU",
        "others on its core",
        "load CPU",
    ]
    return report.table(headers, rows)


def figures_table(outcomes: list[Outcome]) -> str:
    rows = []
    for outcome in outcomes:
        comparison = outcome.comparison
        candidate, baseline = comparison.candidate.name, comparison.baseline.name
        spread = outcome.round_ratios()
        rows.append(
            [
                comparison.figure,
                report.rate(outcome.median_rps(candidate)),
                report.rate(outcome.median_rps(baseline)),
                f"{report.millis(outcome.median_ms(candidate, 'p50_ms'))}/"
                f"{report.millis(outcome.median_ms(candidate, 'p99_ms'))}",
                f"{report.millis(outcome.median_ms(baseline, 'p50_ms'))}/"
                f"{report.millis(outcome.median_ms(baseline, 'p99_ms'))}",
                report.ratio(outcome.ratio),
                f"{report.ratio(min(spread))}-{report.ratio(max(spread))}",
                report.ratio(outcome.cpu_ratio),
                f">= {report.ratio(comparison.target)}",
                outcome.verdict,
            ]
        )
    headers = [
        "figure",
        "candidate req/s",
        "baseline req/s",
        "cand. p50/p99 ms",
        "base p50/p99 ms",
        "ratio",
        "round ratios",
        "per CPU-s",
        "target",
        "met",
    ]
    return report.table(headers, rows)


def notes(outcomes: list[Outcome]) -> list[str]:
    """What makes a figure less trustworthy than it looks."""
    found = []
    for outcome in outcomes:
        runs = outcome.runs
        errors = sum(run.result.errors for run in runs)
        if errors:
            found.append(f"{outcome.comparison.figure}: {errors} failed requests counted")
        if any(run.result.capped for run in runs):
            found.append(f"{outcome.comparison.figure}: a run hit its request cap (bound)")
        crowded_runs = [run for run in runs if run.crowded]
        idle_runs = [
            run
            for run in runs
            if run.core_busy < SATURATED
            or (run.server_cpu < SATURATED and run.result.cpu >= SATURATED)
        ]
        if idle_runs:
            least = min(run.server_cpu for run in idle_runs)
            found.append(
                f"{outcome.comparison.figure}: a server used only {report.percent(least)} of "
                "its core: the load side did not keep it busy (the generator too slow, or its "
                "own core crowded), so that run's req/s understate the server"
                + ("" if outcome.conclusive else "; no verdict")
            )
        if crowded_runs:
            worst = max(run.others_cpu or 0.0 for run in crowded_runs)
            found.append(
                f"{outcome.comparison.figure}: other processes used up to "
                f"{report.percent(worst)} of the servers' core in {len(crowded_runs)} run(s), "
                "so req/s swing with them; the per CPU-s ratio "
                f"({report.ratio(outcome.cpu_ratio)}) discounts them"
                + ("; no verdict on a busy machine" if outcome.crowded else "")
            )
        spread = outcome.round_ratios()
        if max(spread) - min(spread) > 0.1 * outcome.ratio:
            found.append(f"{outcome.comparison.figure}: round ratios vary by more than 10%")
    return found


def bench(options: Options) -> int:
    pinning = procs.Pinning.detect()
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp, contextlib.ExitStack() as stack:
        directory = Path(tmp)
        _progress("starting: migrations, embedded Redis, servers")
        environment = AppEnvironment(directory)
        stack.callback(environment.close)
        environment.start()
        generator = load.choose(options.loadgen, pinning, directory, ROOT)
        running: dict[str, RunningServer] = {}
        for comparison in COMPARISONS:
            for spec in (comparison.candidate, comparison.baseline):
                if spec.name not in running:
                    server = servers.launch(
                        spec, env=environment.env(), pinning=pinning, cwd=ROOT, log_dir=directory
                    )
                    stack.callback(server.stop)
                    running[spec.name] = server
        print(header(options, pinning, generator, environment), flush=True)
        outcomes = [
            compare(comparison, running, generator, options, pinning.server_cpu)
            for comparison in COMPARISONS
        ]
    print()
    print("Runs")
    print(runs_table(outcomes))
    print()
    print(
        "Figures (medians over the rounds; ratio = candidate req/s / baseline req/s; "
        "per CPU-s = the same per second of server CPU)"
    )
    print(figures_table(outcomes))
    found = notes(outcomes)
    if found:
        print()
        print("Notes")
        for note in found:
            print(f"  - {note}")
    print()
    met = [o for o in outcomes if o.verdict == "yes"]
    missed = [o.comparison.figure for o in outcomes if o.verdict == "NO"]
    unknown = [o.comparison.figure for o in outcomes if o.verdict == "n/a"]
    print(
        f"  {len(met)} of {len(outcomes)} figures meet their target"
        + (f"; below target: {', '.join(missed)}" if missed else "")
        + (f"; no verdict: {', '.join(unknown)}" if unknown else "")
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    try:
        with _stop_on_signals():
            return bench(options)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted; servers stopped", file=sys.stderr)
        return 130
