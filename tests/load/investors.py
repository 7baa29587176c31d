"""Investors: deal-flow pages, their filters and startup pages (a Locust file).

Each request is one of the 5,000 seeded investors' members, signed in with a seeded session: the
first page of its deal flow (ranked over 100,000 startups, its top 200 stored), the same with
filters (sector, stage, region, funding ask), a later page, and the page of a startup in its
ranking.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

from tests.load import common
from tests.load import data as D


def _member(rng: random.Random) -> tuple[int, dict[str, str]]:
    number = rng.randrange(D.INVESTORS)
    cookie = {"cookie": f"civic_session={D.session_token(D.investor_user(number))}"}
    return D.investor_org(number), cookie


class Investor(FastHttpUser):
    wait_time = between(0.2, 1)

    def on_start(self) -> None:
        self.rng = random.Random()

    def _get(self, path: str, name: str, *expected: int) -> str:
        org, cookie = _member(self.rng)
        with self.client.get(
            path.format(org=org), name=name, headers=cookie, catch_response=True
        ) as response:
            common.check(response, *(expected or (200,)))
            return response.text or ""

    @task(4)
    def dealflow(self) -> None:
        self._get("/investors/{org}/dealflow", "deal flow")

    @task(4)
    def filtered(self) -> None:
        rng = self.rng
        params = []
        if rng.random() < 0.6:
            params.append(f"sector={rng.choice(D.SECTORS)}")
        if rng.random() < 0.5:
            params.append(f"stage={rng.choice(D.STAGES)}")
        if rng.random() < 0.3:
            params.append(f"region={rng.choice(D.REGIONS)}")
        if rng.random() < 0.3:
            params.append(f"ask_max={rng.choice([50, 200, 1000]) * 10_000_000}")
        if rng.random() < 0.2:
            params.append(f"sort={rng.choice(['ask_asc', 'wins', 'recent'])}")
        query = "&".join(params)
        self._get(f"/investors/{{org}}/dealflow?{query}", "deal flow, filtered")

    @task(2)
    def later_page(self) -> None:
        self._get(
            f"/investors/{{org}}/dealflow?cursor={self.rng.choice([20, 60, 120])}",
            "deal flow, later page",
        )

    @task(3)
    def startup(self) -> None:
        # Any startup: one outside the investor's ranking still has a page (its profile).
        startup = D.STARTUP_FIRST + self.rng.randrange(D.STARTUPS)
        self._get(f"/investors/{{org}}/startups/{startup}", "startup page")
