"""Matching benchmark: `python -m tests.matching.bench [--startups N] [--investors M]`.

On synthetic data (100,000 startups and 5,000 investors by default) it prints:
- the full recompute's time (every investor's top 200 out of every startup, in memory; the
  database writes of the stored rows are not counted) and its speed-up per pair over the
  pair-by-pair reference (tests/matching/reference.py) timed on a sample;
- one investor's on-demand ranking over all startups, p95 of 50 runs;
- the peak memory (resident set) of the process through the full recompute;
- the assignment of 1,000 investors x 1,000 startups (one meeting each, and three each).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time

import numpy as np

from service.config import Settings
from service.matching import assignment
from service.matching.scoring import Corpus, StartupData, ThesisData, rank
from service.matching.text import TextSpace
from tests.matching import reference

SECTORS = [
    "mobility",
    "energy",
    "environment",
    "water",
    "waste",
    "health",
    "education",
    "housing",
    "public_safety",
    "digital_government",
    "economy",
    "culture",
    "tourism",
    "agriculture",
    "social_inclusion",
]
STAGES = ["idea", "pre_seed", "seed", "series_a", "series_b", "growth"]
WORDS = (
    "autobuses tráfico rutas movilidad agua sensores calidad energía solar baterías escuelas "
    "salud clínicas residuos reciclaje vivienda seguridad datos plataforma ciudad barrio "
    "buses traffic routes mobility water sensors quality energy solar batteries schools health "
    "clinics waste recycling housing safety data platform city neighbourhood ônibus trânsito "
    "rotas água sensores energia escolas saúde resíduos reciclagem moradia dados cidade bairro "
    "turismo cultura agricultura riego cultivos emprego inclusão formación empleo"
).split()


def synthetic(
    n_startups: int, n_investors: int, seed: int = 1
) -> tuple[list[StartupData], list[ThesisData]]:
    rng = random.Random(seed)
    regions = [f"Region {i}" for i in range(300)]

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    startups = [
        StartupData(
            organization_id=i + 1,
            sectors=rng.sample(SECTORS, rng.randint(1, 3)),
            stage=rng.choice(STAGES),
            funding_ask_minor=rng.randint(10_000_00, 5_000_000_00),
            region=rng.choice(regions),
            text=text(rng.randint(10, 40)),
            eligible=rng.random() < 0.9,
            track_score=rng.random() * rng.random(),
        )
        for i in range(n_startups)
    ]
    theses = [
        ThesisData(
            organization_id=10_000_000 + i,
            sectors=rng.sample(SECTORS, rng.randint(1, 4)),
            stages=rng.sample(STAGES, rng.randint(1, 3)),
            ticket_min_minor=rng.choice([None, rng.randint(10_000_00, 500_000_00)]),
            ticket_max_minor=rng.choice([None, rng.randint(500_000_00, 10_000_000_00)]),
            regions=rng.sample(regions, rng.randint(0, 5)),
            regions_strict=rng.random() < 0.2,
            stages_strict=rng.random() < 0.2,
            text=text(rng.randint(10, 30)),
        )
        for i in range(n_investors)
    ]
    return startups, theses


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.matching.bench")
    parser.add_argument("--startups", type=int, default=100_000)
    parser.add_argument("--investors", type=int, default=5_000)
    parser.add_argument("--k", type=int, default=200)
    args = parser.parse_args(argv)
    weights = Settings().matching_weights
    out = sys.stdout

    started = time.perf_counter()
    startups, theses = synthetic(args.startups, args.investors)
    space = TextSpace.fit([s.text for s in startups] + [t.text for t in theses])
    corpus = Corpus(startups, space)
    print(
        f"setup: {args.startups} startups x {args.investors} investors, text model of "
        f"{space.size} words, {time.perf_counter() - started:.1f} s (not counted)",
        file=out,
    )
    rss_before = peak_rss_mib()

    started = time.perf_counter()
    kept = 0
    for _, ranked in rank(theses, corpus, weights, k=args.k):
        kept += len(ranked)
    full_seconds = time.perf_counter() - started
    pairs = args.startups * args.investors
    print(
        f"full recompute: {full_seconds:.2f} s for {pairs:,} pairs ({kept:,} kept); target <= 15 s",
        file=out,
    )
    print(
        f"peak memory (resident) through the full recompute: {peak_rss_mib():.0f} MiB "
        f"(before it: {rss_before:.0f} MiB); target <= 2048 MiB",
        file=out,
    )

    sample_theses = theses[:5]
    sample_startups = startups[:400]
    started = time.perf_counter()
    for thesis in sample_theses:
        reference.ranking(space, thesis, sample_startups, weights, args.k)
    reference_per_pair = (time.perf_counter() - started) / (
        len(sample_theses) * len(sample_startups)
    )
    batch_per_pair = full_seconds / pairs
    print(
        f"speed-up over the per-pair reference ({len(sample_theses)}x{len(sample_startups)} "
        f"sample, {reference_per_pair * 1e6:.0f} us a pair): "
        f"{reference_per_pair / batch_per_pair:,.0f}x; target >= 300x",
        file=out,
    )

    timings = []
    for thesis in theses[:50]:
        started = time.perf_counter()
        list(rank([thesis], corpus, weights, k=args.k))
        timings.append(time.perf_counter() - started)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(
        f"one investor's ranking over all startups: p95 {p95 * 1000:.1f} ms, "
        f"median {statistics.median(timings) * 1000:.1f} ms; target p95 <= 50 ms",
        file=out,
    )

    rng = np.random.default_rng(5)
    scores = rng.random((1000, 1000))
    for cap in (1, 3):
        started = time.perf_counter()
        meetings = assignment.assign(scores, [cap] * 1000, [cap] * 1000)
        seconds = time.perf_counter() - started
        print(
            f"assignment 1,000 x 1,000 with {cap} meeting(s) each: {seconds:.2f} s, "
            f"{len(meetings)} meetings; target <= 0.5 s",
            file=out,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
