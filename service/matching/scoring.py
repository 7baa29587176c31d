"""Pure, vectorised scoring of startups for investors (no database, no per-pair Python loops).

A startup and a thesis are first put through hard filters (opted in, organization verified, the
investor's regions and stages when it marks them strict), then scored in [0, 1] by a weighted
sum (weights from settings, divided by their total) of components each in [0, 1]:

- sector: shared sectors over the smaller of the two lists; 0 when either has none.
- stage: 1 on one of the investor's stages, 1 - d/3 at d stages from the nearest; 0.5 (no
  information) when the startup gives no stage or the investor lists none.
- ticket: 1 when the ask is inside the investor's range (an open end is no limit), falling by
  half for each halving (below) or doubling (above) away from it, down to 0; 0.5 without an ask.
- region: 1 when the startup's region is one of the investor's, 0 otherwise; 0.5 when the
  investor lists none. Regions are compared ignoring case and repeated spaces.
- text: cosine of the TF-IDF rows of the description and the thesis (0 when either is empty).
- track: the startup's track record score (see `service.matching.track`).

Ranking orders by the score rounded to 1e-10 (so that float noise never reorders ties), then by
the startup's organization id. `tests/matching/reference.py` restates all of it pair by pair.

How it is computed (`rank`): theses go in blocks; a screening pass (`screen`) scores a block
against every startup in single precision with the terms folded into lookup tables and
slices, few passes over memory; the k-th best screened score of each thesis is found from a
sample (`kth_largest`); every pair within 1e-5 of it is then scored exactly, in double
precision, by the plain formulas (`score_pairs`), and those exact scores decide the order.
`score_block` is the plain version over a whole block (previews, one startup, demo days).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from service.core.vocab import Area, Stage
from service.matching.text import TextSpace

COMPONENTS = ("sector", "stage", "ticket", "region", "text", "track")
SECTORS = [a.value for a in Area]
STAGES = [s.value for s in Stage]
NO_STAGE = len(STAGES)
NEUTRAL = 0.5
# Decimals of the score that ranking looks at.
RANK_DECIMALS = 10
FILTERED = -1.0


def norm_region(region: str) -> str:
    return " ".join(region.casefold().split())


@dataclass(frozen=True)
class StartupData:
    organization_id: int
    sectors: Sequence[str] = ()
    stage: str | None = None
    funding_ask_minor: int | None = None
    region: str = ""
    text: str = ""
    # Opted in to the deal flow and its organization verified.
    eligible: bool = True
    track_score: float = 0.0
    track: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    currency: str = "EUR"


@dataclass(frozen=True)
class ThesisData:
    organization_id: int
    sectors: Sequence[str] = ()
    stages: Sequence[str] = ()
    ticket_min_minor: int | None = None
    ticket_max_minor: int | None = None
    regions: Sequence[str] = ()
    regions_strict: bool = False
    stages_strict: bool = False
    text: str = ""
    currency: str = "EUR"


def normalised_weights(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(max(0.0, float(weights.get(name, 0.0))) for name in COMPONENTS)
    if total <= 0:
        raise ValueError("matching weights must have a positive sum")
    return {name: max(0.0, float(weights.get(name, 0.0))) / total for name in COMPONENTS}


def _sector_matrix(lists: Sequence[Sequence[str]]) -> np.ndarray:
    index = {name: i for i, name in enumerate(SECTORS)}
    matrix = np.zeros((len(lists), len(SECTORS)), dtype=np.float64)
    for row, names in enumerate(lists):
        for name in names:
            if name in index:
                matrix[row, index[name]] = 1.0
    return matrix


def _log2_or(values: Sequence[int | None], missing: float) -> np.ndarray:
    return np.array(
        [math.log2(v) if v is not None and v > 0 else missing for v in values], dtype=np.float64
    )


class Corpus:
    """Every startup's profile as arrays, ready to be scored against theses."""

    def __init__(
        self,
        startups: Sequence[StartupData],
        space: TextSpace,
        *,
        region_index: dict[str, int] | None = None,
        text: sparse.csr_matrix | None = None,
    ) -> None:
        # Columns are ordered by the ask (none last): in the screening pass each investor's
        # ticket term is then a few slices of a row instead of passes over all of it.
        asks = [s.funding_ask_minor for s in startups]
        order = sorted(
            range(len(startups)),
            key=lambda i: (asks[i] is None or asks[i] <= 0, asks[i] or 0, i),  # type: ignore[operator]
        )
        startups = [startups[i] for i in order]
        if text is not None:
            text = text[np.asarray(order, dtype=np.intp)]
        self.startups = startups
        self.space = space
        self.ids = np.array([s.organization_id for s in startups], dtype=np.int64)
        self.sector = _sector_matrix([s.sectors for s in startups])
        self.sector_count = self.sector.sum(axis=1)
        stage_index = {name: i for i, name in enumerate(STAGES)}
        self.stage_idx = np.array(
            [stage_index.get(s.stage or "", NO_STAGE) for s in startups], dtype=np.intp
        )
        self.log_ask = _log2_or([s.funding_ask_minor for s in startups], math.nan)
        if region_index is None:
            region_index = {}
            for s in startups:
                key = norm_region(s.region)
                if key and key not in region_index:
                    region_index[key] = len(region_index)
        self.region_index = region_index
        no_region = len(region_index)
        self.region_idx = np.array(
            [region_index.get(norm_region(s.region), no_region) for s in startups], dtype=np.intp
        )
        self.text = text if text is not None else space.transform([s.text for s in startups])
        self.text_t = self.text.T.tocsr()
        self.eligible = np.array([s.eligible for s in startups], dtype=bool)
        self.track = np.array([s.track_score for s in startups], dtype=np.float64)
        self.stage_region = self.stage_idx * (no_region + 1) + self.region_idx
        # Single precision copies for the screening pass (half the memory traffic).
        self.text32 = self.text.astype(np.float32)
        self.sector32 = self.sector.astype(np.float32)
        self.has_ask = ~np.isnan(self.log_ask)
        self.position = {int(i): n for n, i in enumerate(self.ids)}
        self._screening: dict[
            tuple[tuple[str, float], ...], tuple[np.ndarray, np.ndarray, np.ndarray]
        ] = {}

    def __len__(self) -> int:
        return len(self.startups)

    def screening_vectors(
        self, w: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-startup terms of the screening pass for these weights (kept: an on-demand
        ranking of one investor should not recompute them)."""
        key = tuple(sorted(w.items()))
        if key not in self._screening:
            f32 = np.float32
            inverse = (w["sector"] * _inverse(self.sector_count)).astype(f32)
            # Half the weighted log ask; without an ask, low enough for the term to be 0
            # (its neutral half is in `base`).
            half = np.where(self.has_ask, w["ticket"] * self.log_ask / 2.0, -1e12).astype(f32)
            base = w["track"] * self.track + np.where(self.has_ask, 0.0, NEUTRAL * w["ticket"])
            base[~self.eligible] = -np.inf
            self._screening[key] = (inverse, half, base.astype(f32))
        return self._screening[key]

    def take(self, indices: Sequence[int] | np.ndarray) -> Corpus:
        """The same corpus restricted to some startups (same text model and regions)."""
        idx = np.asarray(indices, dtype=np.intp)
        return Corpus(
            [self.startups[i] for i in idx],
            self.space,
            region_index=self.region_index,
            text=self.text[idx],
        )


class ThesisBlock:
    """A few theses as arrays, for scoring against a corpus."""

    def __init__(self, theses: Sequence[ThesisData], corpus: Corpus) -> None:
        self.theses = list(theses)
        m = len(theses)
        self.ids = np.array([t.organization_id for t in theses], dtype=np.int64)
        self.sector = _sector_matrix([t.sectors for t in theses])
        self.sector_count = self.sector.sum(axis=1)
        # stage_table[i, s]: the stage component of thesis i for a startup at stage s.
        stage_index = {name: i for i, name in enumerate(STAGES)}
        mask = np.zeros((m, len(STAGES)), dtype=bool)
        for row, t in enumerate(theses):
            for name in t.stages:
                if name in stage_index:
                    mask[row, stage_index[name]] = True
        positions = np.arange(len(STAGES))
        distance = np.abs(positions[:, None] - positions[None, :]).astype(np.float64)
        nearest = np.where(mask[:, :, None], distance[None, :, :], np.inf).min(axis=1)
        table = np.maximum(0.0, 1.0 - nearest / 3.0)
        has_stages = mask.any(axis=1)
        table[~has_stages] = NEUTRAL
        self.stage_table = np.concatenate([table, np.full((m, 1), NEUTRAL)], axis=1)
        self.stage_strict = np.array([t.stages_strict for t in theses], dtype=bool) & has_stages
        self.log_lo = _log2_or([t.ticket_min_minor for t in theses], -math.inf)
        self.log_hi = _log2_or([t.ticket_max_minor for t in theses], math.inf)
        no_region = len(corpus.region_index)
        regions = np.zeros((m, no_region + 1), dtype=np.float64)
        has_regions = np.zeros(m, dtype=bool)
        for row, t in enumerate(theses):
            keys = {norm_region(r) for r in t.regions} - {""}
            has_regions[row] = bool(keys)
            for key in keys:
                if key in corpus.region_index:
                    regions[row, corpus.region_index[key]] = 1.0
        regions[~has_regions] = NEUTRAL
        self.region_table = regions
        self.region_strict = np.array([t.regions_strict for t in theses], dtype=bool) & has_regions
        self.text = corpus.space.transform([t.text for t in theses])
        self._corpus_regions = no_region + 1

    def screening_tables(
        self, w: Mapping[str, float]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For the fast pass: stage and region folded into one table (-inf where a strict
        filter refuses), indexed by stage * regions + region, and the ticket's two bounds."""
        stage = self.stage_table[:, :, None]
        region = self.region_table[:, None, :]
        table = w["stage"] * stage + w["region"] * region
        refused = (self.stage_strict[:, None, None] & (stage != 1.0)) | (
            self.region_strict[:, None, None] & (region != 1.0)
        )
        table = np.where(refused, -np.inf, table).reshape(len(self.theses), -1)
        # ticket = clip(min(1 + (a - lo) / 2, 1 + (hi - a) / 2), 0, 1), times its weight.
        # An open end is a large finite bound (not inf), so that a startup without an ask
        # can be sent below 0 (see `screen`).
        low = np.minimum(w["ticket"] * (1.0 - self.log_lo / 2.0), 1e6)
        high = np.minimum(w["ticket"] * (1.0 + self.log_hi / 2.0), 1e6)
        return table, np.asarray(self.sector_count), low, high


@dataclass
class Scored:
    """Scores of a block of theses (rows) against a corpus (columns)."""

    score: np.ndarray
    components: dict[str, np.ndarray]
    allowed: np.ndarray

    @property
    def keys(self) -> np.ndarray:
        """What ranking sorts by: the rounded score, or -1 where a hard filter refused."""
        return np.where(self.allowed, np.round(self.score, RANK_DECIMALS), FILTERED)


def score_block(block: ThesisBlock, corpus: Corpus, weights: Mapping[str, float]) -> Scored:
    w = normalised_weights(weights)
    # Sector: shared over the smaller list.
    shared = block.sector @ corpus.sector.T
    smaller = np.minimum(block.sector_count[:, None], corpus.sector_count[None, :])
    sector = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    stage = block.stage_table[:, corpus.stage_idx]
    # Ticket: how many halvings/doublings the ask is outside the range.
    with np.errstate(invalid="ignore"):
        below = block.log_lo[:, None] - corpus.log_ask[None, :]
        above = corpus.log_ask[None, :] - block.log_hi[:, None]
        gap = np.maximum(np.maximum(below, above), 0.0)
        ticket = np.clip(1.0 - gap / 2.0, 0.0, 1.0)
    ticket[:, np.isnan(corpus.log_ask)] = NEUTRAL
    region = block.region_table[:, corpus.region_idx]
    text = np.asarray((block.text @ corpus.text_t).todense(), dtype=np.float64)
    np.clip(text, 0.0, 1.0, out=text)
    track = np.broadcast_to(corpus.track[None, :], sector.shape)
    components = {
        "sector": sector,
        "stage": stage,
        "ticket": ticket,
        "region": region,
        "text": text,
        "track": track,
    }
    score = (
        w["sector"] * sector
        + w["stage"] * stage
        + w["ticket"] * ticket
        + w["region"] * region
        + w["text"] * text
        + w["track"] * track
    )
    allowed = np.broadcast_to(corpus.eligible[None, :], score.shape).copy()
    allowed &= ~block.region_strict[:, None] | (region == 1.0)
    allowed &= ~block.stage_strict[:, None] | (stage == 1.0)
    return Scored(score=score, components=components, allowed=allowed)


def top_indices(keys: np.ndarray, ids: np.ndarray, k: int) -> list[np.ndarray]:
    """For each row, the column indices of its best `k` allowed columns, best first
    (ties broken by the smaller id)."""
    rows, n = keys.shape
    if n == 0 or k <= 0:
        return [np.zeros(0, dtype=np.intp) for _ in range(rows)]
    if n > k:
        # The k-th best key of each row; every column at least as good is a candidate.
        kth = np.partition(keys, n - k, axis=1)[:, n - k]
    else:
        kth = keys.min(axis=1)
    result = []
    for row in range(rows):
        threshold = max(kth[row], 0.0)
        candidates = np.flatnonzero(keys[row] >= threshold)
        candidates = candidates[keys[row, candidates] > FILTERED]
        order = np.lexsort((ids[candidates], -keys[row, candidates]))
        result.append(candidates[order[:k]])
    return result


def screen(block: ThesisBlock, corpus: Corpus, weights: Mapping[str, float]) -> np.ndarray:
    """The scores of a block in few passes over memory (-inf where a hard filter refuses).

    The same sum as `score_block`, with the terms folded into lookup tables, in single
    precision and in another order, so it differs from it by rounding (under 1e-6): it only
    picks candidates, whose exact scores `score_pairs` then computes.
    """
    w = normalised_weights(weights)
    f32 = np.float32
    table, _, low, high = block.screening_tables(w)
    # Text first: its dense form is the buffer the other terms are added into. Sparse
    # startups times the block's dense columns costs each startup's words times the block's
    # width, whatever the size of the vocabulary.
    theses_t = block.text.T.toarray().astype(f32)
    theses_t *= f32(w["text"])
    score = np.ascontiguousarray((corpus.text32 @ theses_t).T)
    stage_region = np.broadcast_to(corpus.stage_region, score.shape)
    score += np.take_along_axis(table.astype(f32), stage_region, 1)
    # Sector: shared / min(counts) = shared * max(1/count, 1/count); when either count is 0,
    # nothing is shared, so the inverse chosen for 0 does not matter.
    startup_inverse, half, base = corpus.screening_vectors(w)
    term = block.sector.astype(f32) @ corpus.sector32.T
    inverse = np.maximum(
        (w["sector"] * _inverse(block.sector_count)).astype(f32)[:, None],
        startup_inverse[None, :],
    )
    term *= inverse
    score += term
    del term, inverse
    _add_ticket(score, low, high, half, w["ticket"])
    score += base[None, :]
    return score


def _add_ticket(
    score: np.ndarray, low: np.ndarray, high: np.ndarray, half: np.ndarray, weight: float
) -> None:
    """Add min(low + h, high - h) clipped to [0, weight] to each row, h being the startups'
    weighted half log asks, in ascending order (without an ask: -1e12, first, or +inf).

    Along sorted h the term is 0, rises (low + h), holds at the weight, falls (high - h) and
    is 0 again: each row gets three slices.
    """
    f32 = np.float32
    asked = half > -1e11
    count = int(asked.sum())
    order_ok = bool(asked[:count].all()) and bool(np.all(np.diff(half[:count]) >= 0))
    if not order_ok or not np.all(weight - low <= high - weight):
        # Not sorted (or a thesis whose range is upside down): the plain way.
        term = np.minimum(low.astype(f32)[:, None] + half, high.astype(f32)[:, None] - half)
        score += np.clip(term, f32(0.0), f32(weight))
        return
    sorted_half = np.where(half < -1e11, np.inf, half)
    rises = np.searchsorted(sorted_half, -low, side="left")
    full = np.searchsorted(sorted_half, weight - low, side="left")
    falls = np.searchsorted(sorted_half, high - weight, side="right")
    ends = np.searchsorted(sorted_half, high, side="right")
    for row in range(score.shape[0]):
        a, b, c, d = rises[row], max(rises[row], full[row]), falls[row], ends[row]
        c = max(b, c)
        d = max(c, d)
        if a < b:
            score[row, a:b] += np.minimum(low[row] + half[a:b], weight).astype(f32)
        if b < c:
            score[row, b:c] += f32(weight)
        if c < d:
            score[row, c:d] += np.maximum(high[row] - half[c:d], 0.0).astype(f32)


def _inverse(counts: np.ndarray) -> np.ndarray:
    return np.divide(1.0, counts, out=np.zeros_like(counts, dtype=np.float64), where=counts > 0)


def score_pairs(
    block: ThesisBlock,
    corpus: Corpus,
    rows: np.ndarray,
    cols: np.ndarray,
    weights: Mapping[str, float],
) -> Scored:
    """Exact scores and components of the pairs (rows[j], cols[j]), as `score_block`."""
    w = normalised_weights(weights)
    shared = np.einsum("ij,ij->i", block.sector[rows], corpus.sector[cols])
    smaller = np.minimum(block.sector_count[rows], corpus.sector_count[cols])
    sector = np.divide(shared, smaller, out=np.zeros_like(shared), where=smaller > 0)
    stage = block.stage_table[rows, corpus.stage_idx[cols]]
    with np.errstate(invalid="ignore"):
        below = block.log_lo[rows] - corpus.log_ask[cols]
        above = corpus.log_ask[cols] - block.log_hi[rows]
        gap = np.maximum(np.maximum(below, above), 0.0)
        ticket = np.clip(1.0 - gap / 2.0, 0.0, 1.0)
    ticket[np.isnan(corpus.log_ask[cols])] = NEUTRAL
    region = block.region_table[rows, corpus.region_idx[cols]]
    text = np.asarray(block.text[rows].multiply(corpus.text[cols]).sum(axis=1)).ravel()
    np.clip(text, 0.0, 1.0, out=text)
    track = corpus.track[cols]
    score = (
        w["sector"] * sector
        + w["stage"] * stage
        + w["ticket"] * ticket
        + w["region"] * region
        + w["text"] * text
        + w["track"] * track
    )
    allowed = corpus.eligible[cols].copy()
    allowed &= ~block.region_strict[rows] | (region == 1.0)
    allowed &= ~block.stage_strict[rows] | (stage == 1.0)
    components = {
        "sector": sector,
        "stage": stage,
        "ticket": ticket,
        "region": region,
        "text": text,
        "track": track,
    }
    return Scored(score=score, components=components, allowed=allowed)


# How far below the k-th screened score a candidate may be and still be checked exactly
# (well above the single precision pass's rounding).
SCREEN_MARGIN = 1e-5


def kth_largest(values: np.ndarray, k: int) -> np.ndarray:
    """Each row's k-th largest value (-inf when it has fewer than k finite ones).

    A strided sample of the columns gives a threshold a little below the k-th largest; the
    values above it (a few times k) are partitioned exactly. Rows where the sample guessed
    too high fall back to a full partition.
    """
    rows, n = values.shape
    if n <= k:
        return values.min(axis=1)
    sample_size = min(n, max(4096, 16 * k))
    result = np.empty(rows)
    pending = list(range(rows))
    if sample_size < n:
        sample = values[:, np.linspace(0, n - 1, sample_size).astype(np.intp)]
        # Aim at 3k values above the threshold in the whole row.
        position = min(sample_size - 1, int(np.ceil(3 * k * sample_size / n)))
        guess = -np.partition(-sample, position, axis=1)[:, position]
        pending = []
        for row in range(rows):
            above = values[row][values[row] >= guess[row]]
            if len(above) >= k:
                result[row] = -np.partition(-above, k - 1)[k - 1]
            else:
                pending.append(row)
    if pending:
        result[pending] = -np.partition(-values[pending], k - 1, axis=1)[:, k - 1]
    return result


@dataclass
class Ranked:
    """One startup in one thesis's ranking."""

    startup: StartupData
    rank: int
    score: float
    components: dict[str, float]


@dataclass
class Ranking:
    """A thesis's best startups, best first, kept as arrays (items are built when read)."""

    corpus: Corpus
    columns: np.ndarray
    scores: np.ndarray
    components: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self) -> Iterator[Ranked]:
        for position in range(len(self.columns)):
            yield self[position]

    def __getitem__(self, position: int) -> Ranked:
        return Ranked(
            startup=self.corpus.startups[self.columns[position]],
            rank=position + 1,
            score=float(self.scores[position]),
            components={name: float(v[position]) for name, v in self.components.items()},
        )


def blocks(theses: Sequence[ThesisData], size: int) -> Iterator[Sequence[ThesisData]]:
    for start in range(0, len(theses), size):
        yield theses[start : start + size]


def _rank_block(
    chunk: Sequence[ThesisData], corpus: Corpus, weights: Mapping[str, float], k: int
) -> list[tuple[ThesisData, Ranking]]:
    n = len(corpus)
    if n == 0 or k <= 0:
        empty = np.zeros(0, dtype=np.intp)
        return [(thesis, Ranking(corpus, empty, np.zeros(0), {})) for thesis in chunk]
    block = ThesisBlock(chunk, corpus)
    # A fast pass picks the candidates (the k best and whatever ties or nearly ties them);
    # their exact scores then decide, as the reference would.
    fast = screen(block, corpus, weights)
    kth = kth_largest(fast, k)
    # Refused pairs are -inf, below the lowest float: one comparison leaves them out.
    lowest = np.finfo(fast.dtype).min
    threshold = np.where(np.isfinite(kth), kth - SCREEN_MARGIN, lowest).astype(fast.dtype)
    rows, cols = np.nonzero(fast >= threshold[:, None])
    del fast
    exact = score_pairs(block, corpus, rows, cols, weights)
    keys = np.where(exact.allowed, np.round(exact.score, RANK_DECIMALS), FILTERED)
    order = np.lexsort((corpus.ids[cols], -keys, rows))
    order = order[keys[order] > FILTERED]
    starts = np.searchsorted(rows[order], np.arange(len(chunk) + 1))
    result = []
    for row, thesis in enumerate(chunk):
        picked = order[starts[row] : starts[row + 1]][:k]
        result.append(
            (
                thesis,
                Ranking(
                    corpus,
                    cols[picked],
                    exact.score[picked],
                    {name: values[picked] for name, values in exact.components.items()},
                ),
            )
        )
    return result


def rank(
    theses: Sequence[ThesisData],
    corpus: Corpus,
    weights: Mapping[str, float],
    *,
    k: int = 200,
    block_size: int = 128,
) -> Iterator[tuple[ThesisData, Ranking]]:
    """Each thesis with its best `k` startups, scored in blocks of theses."""
    for chunk in blocks(theses, block_size):
        yield from _rank_block(chunk, corpus, weights, k)


def floor_threshold(floor: float) -> float:
    """The lowest score that counts as reaching `floor`: half a unit of the ranking's last
    decimal below it, so that a score equal to the floor up to float noise (0.39999999999999997
    for 0.4) counts, whichever way it was summed (the live count here, the stored ranking read
    by the deal flow)."""
    return floor - 0.5 * 10.0**-RANK_DECIMALS


def count_above(
    thesis: ThesisData, corpus: Corpus, weights: Mapping[str, float], floor: float
) -> int:
    """How many startups pass the hard filters with a score of at least `floor`."""
    if len(corpus) == 0:
        return 0
    scored = score_block(ThesisBlock([thesis], corpus), corpus, weights)
    return int(np.count_nonzero(scored.allowed & (scored.score >= floor_threshold(floor))))
