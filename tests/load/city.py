"""City launch: visitors browse, residents sign in, support and comment (a Locust file).

User classes (the driver picks them per phase on Locust's command line):
- `Visitor`: the home page, the challenge list with filters, challenge pages, the proposal list
  with filters and proposal pages, anonymous.
- `ChallengeReader`: challenge pages only, anonymous, no pause (the anonymous-pages figure).
- `Resident`: signed in with a seeded session (one of 50,000, a different one each request),
  supports proposals it has not supported yet, now and then comments and reads a proposal.
- `Supporter`: supports only, no pause (the supports figure).
- `NewcomerSignIn`: signs in through the form with the password (argon2 checked), then reads
  and comments.

Every support answered 303 is a new row in `proposal_supports`; every comment answered 303 a new
row in `proposal_comments`; every sign-in answered 303 a new row in `web_sessions`.
"""

from __future__ import annotations

import itertools
import random
import threading

from locust import FastHttpUser, between, constant, task

from tests.load import common
from tests.load import data as D
from tests.load.seed import TOPICS, hot_proposal

AREAS = ["mobility", "energy", "water", "waste", "health", "education", "environment"]
CHALLENGE_SORTS = ["newest", "closing", "reward"]
PROPOSAL_SORTS = ["supported", "newest", "waiting"]

_residents = itertools.cycle(range(1, D.RESIDENTS_WITH_SESSION + 1))
_newcomers = itertools.count(D.RESIDENTS_WITH_SESSION + 1)
# Proposals each resident has supported in this run (the driver removed earlier runs' ones).
_supported: dict[int, set[int]] = {}
_lock = threading.Lock()


def _resident() -> tuple[int, set[int]]:
    with _lock:
        resident = next(_residents)
        return resident, _supported.setdefault(resident, set())


def _cookie(user_id: int) -> dict[str, str]:
    return {"cookie": f"civic_session={D.session_token(user_id)}"}


def challenge_filters(rng: random.Random) -> str:
    params = [f"sort={rng.choice(CHALLENGE_SORTS)}"]
    if rng.random() < 0.5:
        params.append(f"area={rng.choice(AREAS)}")
    if rng.random() < 0.4:
        params.append(f"region={rng.choice(D.REGIONS)}")
    if rng.random() < 0.3:
        params.append("status=open")
    if rng.random() < 0.2:
        params.append(f"sdg={rng.randint(1, 17)}")
    if rng.random() < 0.2:
        params.append(f"min_reward={rng.choice([10000, 50000, 200000])}")
    if rng.random() < 0.15:
        params.append(f"q={rng.choice(TOPICS).split()[0]}")
    return "&".join(params)


def proposal_filters(rng: random.Random) -> str:
    params = [f"sort={rng.choice(PROPOSAL_SORTS)}"]
    if rng.random() < 0.5:
        params.append(f"region={rng.choice(D.REGIONS)}")
    if rng.random() < 0.3:
        params.append(f"area={rng.choice(AREAS)}")
    if rng.random() < 0.15:
        params.append(f"q={rng.choice(TOPICS).split()[0]}")
    return "&".join(params)


class Visitor(FastHttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task(2)
    def home(self) -> None:
        with self.client.get("/", name="home", catch_response=True) as response:
            common.check(response, 200)

    @task(3)
    def challenge_list(self) -> None:
        path = f"/challenges?{challenge_filters(self.rng)}"
        with self.client.get(path, name="challenge list", catch_response=True) as response:
            common.check(response, 200)

    @task(5)
    def challenge_page(self) -> None:
        path = f"/challenges/{self.rng.randint(1, D.CHALLENGES)}"
        # Drafts (5%) are not public: 404 is the right answer for them.
        with self.client.get(path, name="challenge page", catch_response=True) as response:
            common.check(response, 200, 404)

    @task(2)
    def proposal_list(self) -> None:
        path = f"/proposals?{proposal_filters(self.rng)}"
        with self.client.get(path, name="proposal list", catch_response=True) as response:
            common.check(response, 200)

    @task(4)
    def proposal_page(self) -> None:
        path = f"/proposals/{hot_proposal(self.rng)}"
        with self.client.get(path, name="proposal page", catch_response=True) as response:
            common.check(response, 200)


class ChallengeReader(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def challenge_page(self) -> None:
        path = f"/challenges/{self.rng.randint(1, D.CHALLENGES)}"
        with self.client.get(path, name="challenge page", catch_response=True) as response:
            common.check(response, 200, 404)


def support(user: FastHttpUser, rng: random.Random) -> None:
    resident, supported = _resident()
    proposal = hot_proposal(rng)
    while proposal in supported:
        proposal = hot_proposal(rng)
    supported.add(proposal)
    with user.client.post(
        f"/proposals/{proposal}/support",
        name="support",
        data={"csrf_token": D.csrf_token(resident)},
        headers=_cookie(resident),
        allow_redirects=False,
        catch_response=True,
    ) as response:
        common.count_check("support", response, 303)
        common.records.append(
            {"resident": resident, "proposal": proposal, "status": response.status_code}
        )


def comment(user: FastHttpUser, rng: random.Random, resident: int, csrf: str) -> None:
    proposal = hot_proposal(rng)
    with user.client.post(
        f"/proposals/{proposal}/comments",
        name="comment",
        data={
            "csrf_token": csrf,
            "text": f"We need this on our street too ({rng.randrange(10**6)}).",
            "stance": rng.choice(["for", "neutral", "against"]),
        },
        headers=_cookie(resident) if resident else None,
        allow_redirects=False,
        catch_response=True,
    ) as response:
        common.count_check("comment", response, 303)


class Resident(FastHttpUser):
    wait_time = between(0.2, 1)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task(10)
    def support(self) -> None:
        support(self, self.rng)

    @task(1)
    def comment(self) -> None:
        # A resident of its own (10 comments per 10 minutes each is the app's limit).
        resident, _ = _resident()
        comment(self, self.rng, resident, D.csrf_token(resident))

    @task(3)
    def read(self) -> None:
        resident, _ = _resident()
        path = f"/proposals/{hot_proposal(self.rng)}"
        with self.client.get(
            path, name="proposal page (signed in)", headers=_cookie(resident), catch_response=True
        ) as response:
            common.check(response, 200)


class Supporter(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def support(self) -> None:
        support(self, self.rng)


class NewcomerSignIn(FastHttpUser):
    """Residents without a session sign in with their password (each one once), then comment."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.csrf = ""
        with _lock:
            resident = next(_newcomers)
        if resident > D.RESIDENTS:
            return
        with self.client.get("/signin", name="sign-in form", catch_response=True) as response:
            if not common.check(response, 200):
                return
            found = common.CSRF_FIELD.search(response.text or "")
        if found is None:
            return
        with self.client.post(
            "/signin",
            name="sign in",
            data={
                "csrf_token": found.group(1),
                "email": D.resident_email(resident),
                "password": D.PASSWORD,
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if not common.count_check("sign in", response, 303):
                return
        path = f"/proposals/{hot_proposal(self.rng)}"
        with self.client.get(path, name="proposal page (signed in)", catch_response=True) as answer:
            if common.check(answer, 200):
                signed = common.CSRF_FIELD.search(answer.text or "")
                self.csrf = signed.group(1) if signed else ""

    @task
    def comment(self) -> None:
        if self.csrf:
            comment(self, self.rng, 0, self.csrf)
