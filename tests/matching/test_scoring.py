"""The scoring's components on hand-made cases, its hard filters, its reasons, and the batch
against the pair-by-pair reference."""

from __future__ import annotations

import random

import numpy as np
import pytest

from service.config import Settings
from service.matching import explain
from service.matching.scoring import (
    COMPONENTS,
    Corpus,
    StartupData,
    ThesisBlock,
    ThesisData,
    count_above,
    kth_largest,
    normalised_weights,
    rank,
    score_block,
    top_indices,
)
from service.matching.text import TextSpace
from tests.matching import reference

WEIGHTS = Settings().matching_weights


def components_of(
    thesis: ThesisData, *startups: StartupData, corpus_texts: tuple[str, ...] = ()
) -> list[dict[str, float]]:
    space = TextSpace.fit([s.text for s in startups] + [thesis.text, *corpus_texts])
    corpus = Corpus(list(startups), space)
    scored = score_block(ThesisBlock([thesis], corpus), corpus, WEIGHTS)
    return [
        {name: float(values[0, col]) for name, values in scored.components.items()}
        for col in range(len(startups))
    ]


def one(thesis: ThesisData, startup: StartupData) -> dict[str, float]:
    return components_of(thesis, startup)[0]


class TestSector:
    def test_shared_over_the_smaller_list(self) -> None:
        thesis = ThesisData(1, sectors=["mobility", "energy", "water"])
        assert one(thesis, StartupData(2, sectors=["mobility"]))["sector"] == 1.0
        assert one(thesis, StartupData(2, sectors=["mobility", "health"]))["sector"] == 0.5
        assert one(thesis, StartupData(2, sectors=["health"]))["sector"] == 0.0

    def test_no_sectors_on_either_side_is_zero(self) -> None:
        assert one(ThesisData(1), StartupData(2, sectors=["mobility"]))["sector"] == 0.0
        assert one(ThesisData(1, sectors=["mobility"]), StartupData(2))["sector"] == 0.0


class TestStage:
    def test_exact_near_and_far(self) -> None:
        thesis = ThesisData(1, stages=["seed", "series_a"])
        assert one(thesis, StartupData(2, stage="seed"))["stage"] == 1.0
        assert one(thesis, StartupData(2, stage="pre_seed"))["stage"] == pytest.approx(2 / 3)
        assert one(thesis, StartupData(2, stage="idea"))["stage"] == pytest.approx(1 / 3)
        assert one(ThesisData(1, stages=["idea"]), StartupData(2, stage="growth"))["stage"] == 0

    def test_unknown_stage_or_no_preference_is_neutral(self) -> None:
        assert one(ThesisData(1, stages=["seed"]), StartupData(2))["stage"] == 0.5
        assert one(ThesisData(1), StartupData(2, stage="seed"))["stage"] == 0.5


class TestTicket:
    thesis = ThesisData(1, ticket_min_minor=100_000_00, ticket_max_minor=1_000_000_00)

    def test_inside_the_range(self) -> None:
        assert one(self.thesis, StartupData(2, funding_ask_minor=300_000_00))["ticket"] == 1.0
        assert one(self.thesis, StartupData(2, funding_ask_minor=100_000_00))["ticket"] == 1.0

    def test_falls_by_half_per_halving_or_doubling(self) -> None:
        assert one(self.thesis, StartupData(2, funding_ask_minor=50_000_00))["ticket"] == 0.5
        assert one(self.thesis, StartupData(2, funding_ask_minor=25_000_00))["ticket"] == 0.0
        assert one(self.thesis, StartupData(2, funding_ask_minor=2_000_000_00))["ticket"] == 0.5
        assert one(self.thesis, StartupData(2, funding_ask_minor=10**12))["ticket"] == 0.0

    def test_open_ended_ticket(self) -> None:
        floor_only = ThesisData(1, ticket_min_minor=100_000_00)
        assert one(floor_only, StartupData(2, funding_ask_minor=10**12))["ticket"] == 1.0
        assert one(floor_only, StartupData(2, funding_ask_minor=50_000_00))["ticket"] == 0.5
        ceiling_only = ThesisData(1, ticket_max_minor=100_000_00)
        assert one(ceiling_only, StartupData(2, funding_ask_minor=1))["ticket"] == 1.0
        assert one(ThesisData(1), StartupData(2, funding_ask_minor=5))["ticket"] == 1.0

    def test_no_ask_is_neutral(self) -> None:
        assert one(self.thesis, StartupData(2))["ticket"] == 0.5


class TestRegion:
    def test_same_region_ignoring_case_and_spaces(self) -> None:
        thesis = ThesisData(1, regions=["São  Paulo", "Madrid"])
        assert one(thesis, StartupData(2, region="são paulo"))["region"] == 1.0
        assert one(thesis, StartupData(2, region="Lisboa"))["region"] == 0.0
        assert one(thesis, StartupData(2))["region"] == 0.0

    def test_no_regions_is_neutral(self) -> None:
        assert one(ThesisData(1), StartupData(2, region="Lisboa"))["region"] == 0.5


class TestText:
    def test_similar_texts_score_higher_in_each_language(self) -> None:
        thesis = ThesisData(1, text="Movilidad urbana: autobuses eléctricos y tráfico")
        near = StartupData(2, text="Optimizamos rutas de autobuses para reducir el trafico")
        far = StartupData(3, text="Sensores de calidad del agua para ríos")
        parts = components_of(thesis, near, far, corpus_texts=("agua potable", "ruido"))
        assert parts[0]["text"] > 0.1
        assert parts[1]["text"] == 0.0
        pt = ThesisData(1, text="energia solar para escolas públicas")
        parts = components_of(pt, StartupData(2, text="Painéis de energia solar"), far)
        assert parts[0]["text"] > parts[1]["text"]

    def test_no_text_is_zero(self) -> None:
        thesis = ThesisData(1, text="")
        assert one(thesis, StartupData(2, text="buses"))["text"] == 0.0
        assert one(ThesisData(1, text="buses"), StartupData(2, text=""))["text"] == 0.0

    def test_stop_words_alone_do_not_match(self) -> None:
        parts = one(ThesisData(1, text="de la para the and"), StartupData(2, text="de la the"))
        assert parts["text"] == 0.0


class TestHardFilters:
    def test_never_lets_a_non_opted_in_or_unverified_startup_through(self) -> None:
        thesis = ThesisData(1, sectors=["mobility"], text="buses")
        perfect = dict(sectors=["mobility"], text="buses", track_score=1.0)
        startups = [
            StartupData(2, eligible=False, **perfect),  # type: ignore[arg-type]
            StartupData(3, eligible=True, **perfect),  # type: ignore[arg-type]
        ]
        corpus = Corpus(startups, TextSpace.fit(["buses"]))
        [(_, ranked)] = list(rank([thesis], corpus, WEIGHTS))
        assert [r.startup.organization_id for r in ranked] == [3]
        assert count_above(thesis, corpus, WEIGHTS, 0.0) == 1

    def test_strict_regions_and_stages_filter_instead_of_scoring(self) -> None:
        startups = [
            StartupData(2, region="Madrid", stage="seed"),
            StartupData(3, region="Lisboa", stage="seed"),
            StartupData(4, region="Madrid", stage="growth"),
            StartupData(5, region="", stage=None),
        ]
        corpus = Corpus(startups, TextSpace.fit([]))
        strict = ThesisData(1, regions=["madrid"], stages=["seed"], regions_strict=True)
        [(_, ranked)] = list(rank([strict], corpus, WEIGHTS))
        assert {r.startup.organization_id for r in ranked} == {2, 4}
        both = ThesisData(
            1, regions=["madrid"], stages=["seed"], regions_strict=True, stages_strict=True
        )
        [(_, ranked)] = list(rank([both], corpus, WEIGHTS))
        assert [r.startup.organization_id for r in ranked] == [2]
        # Strict without a list is no filter at all.
        loose = ThesisData(1, regions_strict=True, stages_strict=True)
        assert len(next(iter(rank([loose], corpus, WEIGHTS)))[1]) == 4


class TestScore:
    def test_weighted_sum_in_the_unit_interval(self) -> None:
        thesis = ThesisData(
            1, sectors=["mobility"], stages=["seed"], regions=["Madrid"], text="buses"
        )
        best = StartupData(
            2,
            sectors=["mobility"],
            stage="seed",
            funding_ask_minor=1000,
            region="Madrid",
            text="buses",
            track_score=1.0,
        )
        corpus = Corpus([best, StartupData(3)], TextSpace.fit(["buses", "agua"]))
        scored = score_block(ThesisBlock([thesis], corpus), corpus, WEIGHTS)
        assert scored.score[0, 0] == pytest.approx(1.0)
        assert 0.0 <= scored.score[0, 1] < 0.5

    def test_weights_come_from_settings(self) -> None:
        thesis = ThesisData(1, sectors=["mobility"])
        startup = StartupData(2, sectors=["mobility"])
        corpus = Corpus([startup], TextSpace.fit([]))
        only_sector = {name: (1.0 if name == "sector" else 0.0) for name in COMPONENTS}
        scored = score_block(ThesisBlock([thesis], corpus), corpus, only_sector)
        assert scored.score[0, 0] == 1.0
        with pytest.raises(ValueError, match="positive"):
            normalised_weights(dict.fromkeys(COMPONENTS, 0.0))


class TestReasons:
    def test_name_the_real_strongest_components(self) -> None:
        thesis = ThesisData(
            1,
            sectors=["mobility"],
            stages=["seed"],
            ticket_min_minor=100_000_00,
            ticket_max_minor=1_000_000_00,
            regions=["Valparaíso"],
            text="autobuses eléctricos",
        )
        startup = StartupData(
            2,
            sectors=["mobility", "energy"],
            stage="seed",
            funding_ask_minor=300_000_00,
            region="Lisboa",
            text="autobuses eléctricos para la ciudad",
            track_score=0.3,
            track={"wins": 2, "applied": 3},
        )
        weights = normalised_weights(WEIGHTS)
        parts = one(thesis, startup)
        space = TextSpace.fit([thesis.text, startup.text, "agua"])
        reasons = explain.reasons_for(
            thesis,
            startup,
            parts,
            weights,
            space=space,
            thesis_row=space.transform([thesis.text]),
            startup_row=space.transform([startup.text]),
        )
        codes = [r["code"] for r in reasons]
        contributions = {name: weights[name] * parts[name] for name in parts}
        said = [c for c in COMPONENTS if c != "region"]  # region is 0: never a reason
        strongest = sorted(said, key=lambda c: -contributions[c])[:3]
        assert codes == strongest
        assert "region" not in codes
        texts = explain.render_all(reasons)
        assert "same sector: Mobility" in texts
        assert any(t.startswith("asks 300k, inside your 100k–1M ticket") for t in texts) or (  # noqa: RUF001
            "ticket" not in codes
        )

    def test_words_of_each_reason(self) -> None:
        assert (
            explain.render(
                {
                    "code": "ticket",
                    "values": {
                        "ask_minor": 300_000_00,
                        "min_minor": 100_000_00,
                        "max_minor": 10**8,
                    },
                }
            )
            == "asks 300k, inside your 100k–1M ticket"  # noqa: RUF001
        )
        assert explain.render({"code": "track", "values": {"wins": 2}}) == "won 2 city challenges"
        assert explain.render({"code": "stage", "values": {"stage": "seed"}}) == "stage: seed"
        assert (
            explain.render({"code": "region", "values": {"region": "Madrid"}})
            == "same region: Madrid"
        )

    def test_a_weak_match_gives_fewer_reasons_not_false_ones(self) -> None:
        thesis = ThesisData(1, sectors=["water"], regions=["Madrid"])
        startup = StartupData(2, sectors=["mobility"], region="Lisboa")
        reasons = explain.reasons_for(thesis, startup, one(thesis, startup), WEIGHTS)
        assert reasons == []


def random_world(
    rng: random.Random, n_startups: int, n_theses: int
) -> tuple[list[StartupData], list[ThesisData]]:
    sectors = ["mobility", "energy", "water", "health", "education", "waste"]
    stages = ["idea", "pre_seed", "seed", "series_a", "series_b", "growth"]
    regions = ["Madrid", "madrid ", "Lisboa", "São Paulo", "Valparaíso", ""]
    words = (
        "autobuses tráfico rutas agua sensores energía solar escuelas salud residuos reciclaje "
        "buses traffic water sensors solar schools health waste recycling ônibus trânsito "
        "água energia escolas saúde resíduos mobility city data platform"
    ).split()

    def text() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))

    startups = [
        StartupData(
            organization_id=1000 + i,
            sectors=rng.sample(sectors, rng.randint(0, 3)),
            stage=rng.choice([*stages, None]),
            funding_ask_minor=rng.choice([None, rng.randint(1, 10**9)]),
            region=rng.choice(regions),
            text=text(),
            eligible=rng.random() > 0.15,
            # Coarse values make ties, so that their order is checked too.
            track_score=rng.choice([0.0, 0.25, 0.5, rng.random()]),
        )
        for i in range(n_startups)
    ]
    theses = []
    for i in range(n_theses):
        low = rng.choice([None, rng.randint(1, 10**7)])
        high = rng.choice([None, rng.randint(10**7, 10**9)])
        theses.append(
            ThesisData(
                organization_id=1 + i,
                sectors=rng.sample(sectors, rng.randint(0, 3)),
                stages=rng.sample(stages, rng.randint(0, 3)),
                ticket_min_minor=low,
                ticket_max_minor=high,
                regions=rng.sample(regions[:5], rng.randint(0, 2)),
                regions_strict=rng.random() < 0.3,
                stages_strict=rng.random() < 0.3,
                text=text(),
            )
        )
    return startups, theses


class TestBatchEqualsReference:
    def test_200_startups_by_50_investors(self) -> None:
        rng = random.Random(7)
        startups, theses = random_world(rng, 200, 50)
        space = TextSpace.fit([s.text for s in startups] + [t.text for t in theses])
        corpus = Corpus(startups, space)
        k = 60
        # Several blocks, so that the block boundaries are crossed too.
        batch = dict(
            (thesis.organization_id, ranked)
            for thesis, ranked in rank(theses, corpus, WEIGHTS, k=k, block_size=16)
        )
        compared = 0
        for thesis in theses:
            expected = reference.ranking(space, thesis, startups, WEIGHTS, k)
            got = batch[thesis.organization_id]
            assert [r.startup.organization_id for r in got] == [e[0] for e in expected]
            for item, (_, score, parts) in zip(got, expected, strict=True):
                assert item.score == pytest.approx(score, abs=1e-9)
                for name in COMPONENTS:
                    assert item.components[name] == pytest.approx(parts[name], abs=1e-9)
                compared += 1
        assert compared > 1000

    def test_preview_count_equals_the_reference(self) -> None:
        rng = random.Random(11)
        startups, theses = random_world(rng, 200, 10)
        space = TextSpace.fit([s.text for s in startups] + [t.text for t in theses])
        corpus = Corpus(startups, space)
        for thesis in theses:
            expected = sum(
                1
                for s in startups
                if reference.allowed(thesis, s)
                # At the floor to the ranking's 10 decimals: a score that is 0.4 up to float
                # noise counts, as the deal flow lists it from the stored score.
                and round(reference.score(reference.components(space, thesis, s), WEIGHTS), 10)
                >= 0.4
            )
            assert count_above(thesis, corpus, WEIGHTS, 0.4) == expected


class TestFastPath:
    def test_kth_largest_with_ties_and_refused_values(self) -> None:
        rng = np.random.default_rng(4)
        values = np.round(rng.random((12, 9000)), 2)  # many ties
        values[values < 0.3] = -np.inf
        values[3, :] = -np.inf
        values[3, :150] = 0.5  # fewer finite values than k
        values[7, :] = 0.25  # all equal
        expected = -np.partition(-values, 199, axis=1)[:, 199]
        assert np.array_equal(kth_largest(values, 200), expected)

    def test_large_corpus_ranks_as_the_plain_vectorised_scores(self) -> None:
        # More startups than the sample of the fast path, so that it is taken.
        rng = random.Random(5)
        startups, theses = random_world(rng, 6000, 20)
        space = TextSpace.fit([s.text for s in startups] + [t.text for t in theses])
        corpus = Corpus(startups, space)
        plain = score_block(ThesisBlock(theses, corpus), corpus, WEIGHTS)
        expected = top_indices(plain.keys, corpus.ids, 200)
        for row, (_, ranking) in enumerate(rank(theses, corpus, WEIGHTS, block_size=8)):
            assert list(ranking.columns) == list(expected[row])
            assert np.allclose(ranking.scores, plain.score[row, expected[row]], atol=1e-12)
