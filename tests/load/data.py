"""The shape of the load database, shared by the seeder, the scenarios and the checks.

Every seeded row has an id computed from these ranges, so a scenario knows, without asking the
database, which resident holds which session, which applicant owns which draft and which
investor ranks which startups. Session tokens and CSRF tokens are derived from the row's number
and a fixed salt: the database is a load-test database of its own, never a real one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

ADMIN_URL = os.environ.get("LOAD_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Bumped whenever the seeded shape changes: an older database is seeded again.
SEED_VERSION = "6"
# The app's SECRET_KEY in the load runs (bearer tokens are signed with it).
SECRET_KEY = "load-test-secret-key-of-at-least-32-characters"
PASSWORD = "Load-test pass phrase 2026!"


@dataclass(frozen=True)
class Scale:
    """How much is seeded, and how many simulated people the scenarios run."""

    database: str
    challenges: int
    proposals: int
    supports: int
    comments: int
    applications: int
    ledger_entries: int
    startups: int
    investors: int
    residents: int
    residents_with_session: int
    rush_applicants: int
    payouts: int
    launch_users: int
    peak_users: int
    investor_users: int


SCALES = {
    # National scale (Decide Madrid's order of magnitude): `make loadtest`.
    "national": Scale(
        database="civic_load",
        challenges=100_000,
        proposals=200_000,
        supports=1_000_000,
        comments=100_000,
        applications=20_000,
        ledger_entries=1_000_000,
        startups=100_000,
        investors=5_000,
        residents=100_000,
        residents_with_session=50_000,
        rush_applicants=1_000,
        payouts=5_000,
        launch_users=200,
        peak_users=64,
        investor_users=100,
    ),
    # Every scenario in a few minutes, seeded in seconds: a smoke run, 1/50 of the data.
    "small": Scale(
        database="civic_load_small",
        challenges=2_000,
        proposals=4_000,
        supports=40_000,
        comments=2_000,
        applications=400,
        ledger_entries=20_000,
        startups=2_000,
        investors=100,
        residents=4_000,
        residents_with_session=2_000,
        rush_applicants=100,
        payouts=200,
        launch_users=50,
        peak_users=32,
        investor_users=20,
    ),
}

RANKED_PER_INVESTOR = 200  # matching keeps each investor's top N (MATCHING_TOP_N)

# Organizations: cities, investors, startups.
CITIES = 50
CITY_FIRST = 1
INVESTOR_FIRST = 1_001
STARTUP_FIRST = 10_001

# Set by `use` (from LOAD_SCALE, which the driver passes on to Locust's processes).
SCALE_NAME = ""
# The database's name on the local PostgreSQL server (kept between runs, see README).
DATABASE = ""
CHALLENGES = PROPOSALS = SUPPORTS = COMMENTS = APPLICATIONS = LEDGER_ENTRIES = 0
STARTUPS = INVESTORS = PAYOUTS = LAUNCH_USERS = PEAK_USERS = INVESTOR_USERS = 0
# Users: residents (the first RESIDENTS_WITH_SESSION hold a session and no seeded support; the
# others gave the seeded supports and sign in with the password), then applicants (the owners of
# the first RUSH_APPLICANTS startups), then investors' members.
RESIDENTS = RESIDENTS_WITH_SESSION = SUPPORTS_PER_SEEDED_RESIDENT = RUSH_APPLICANTS = 0
APPLICANT_USER_FIRST = INVESTOR_USER_FIRST = 0
# The most talked-about proposals: a third of supports, comments and reads go to them.
HOT_PROPOSALS = 0


def use(name: str) -> None:
    """Selects a scale in this process and in the processes it starts afterwards."""
    global SCALE_NAME, DATABASE, CHALLENGES, PROPOSALS, SUPPORTS, COMMENTS, APPLICATIONS
    global LEDGER_ENTRIES, STARTUPS, INVESTORS, PAYOUTS, LAUNCH_USERS, PEAK_USERS, INVESTOR_USERS
    global RESIDENTS, RESIDENTS_WITH_SESSION, SUPPORTS_PER_SEEDED_RESIDENT, RUSH_APPLICANTS
    global APPLICANT_USER_FIRST, INVESTOR_USER_FIRST, HOT_PROPOSALS
    if name not in SCALES:
        raise ValueError(f"LOAD_SCALE must be one of {', '.join(SCALES)}, not {name!r}")
    scale = SCALES[name]
    os.environ["LOAD_SCALE"] = name
    SCALE_NAME = name
    DATABASE = os.environ.get("LOAD_DATABASE", scale.database)
    CHALLENGES, PROPOSALS, SUPPORTS = scale.challenges, scale.proposals, scale.supports
    COMMENTS, APPLICATIONS = scale.comments, scale.applications
    LEDGER_ENTRIES, STARTUPS, INVESTORS = scale.ledger_entries, scale.startups, scale.investors
    PAYOUTS, LAUNCH_USERS = scale.payouts, scale.launch_users
    PEAK_USERS, INVESTOR_USERS = scale.peak_users, scale.investor_users
    RESIDENTS, RESIDENTS_WITH_SESSION = scale.residents, scale.residents_with_session
    SUPPORTS_PER_SEEDED_RESIDENT = SUPPORTS // (RESIDENTS - RESIDENTS_WITH_SESSION)
    RUSH_APPLICANTS = scale.rush_applicants
    APPLICANT_USER_FIRST = RESIDENTS + 1
    INVESTOR_USER_FIRST = APPLICANT_USER_FIRST + RUSH_APPLICANTS
    HOT_PROPOSALS = min(1_000, PROPOSALS // 4)


use(os.environ.get("LOAD_SCALE", "national"))

# The deadline rush's challenge; the first RUSH_APPLICANTS applications are its drafts.
RUSH_CHALLENGE = 1

REGIONS = [
    "Madrid",
    "Barcelona",
    "Valencia",
    "Lisboa",
    "Porto",
    "São Paulo",
    "Rio de Janeiro",
    "Recife",
    "Porto Alegre",
    "Valparaíso",
]
SECTORS = ["mobility", "energy", "water", "waste", "health", "education", "environment"]
STAGES = ["idea", "pre_seed", "seed", "series_a", "series_b", "growth"]


def session_token(user_id: int) -> str:
    """The cookie of a seeded session (residents with a session, investors' members)."""
    return hashlib.sha256(f"civic-load-session:{user_id}".encode()).hexdigest()[:43]


def csrf_token(user_id: int) -> str:
    return hashlib.sha256(f"civic-load-csrf:{user_id}".encode()).hexdigest()[:43]


def resident_email(resident: int) -> str:
    return f"resident{resident}@load.example.org"


def applicant_user(number: int) -> int:
    """The user id of the `number`-th rush applicant (0-based), owner of its startup."""
    return APPLICANT_USER_FIRST + number


def applicant_startup(number: int) -> int:
    return STARTUP_FIRST + number


def investor_org(number: int) -> int:
    return INVESTOR_FIRST + number


def investor_user(number: int) -> int:
    return INVESTOR_USER_FIRST + number


def database_url(name: str | None = None) -> str:
    """Tortoise's form (`postgres://`) of the load database's URL."""
    name = name or DATABASE
    base = ADMIN_URL.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgres://", 1) + f"/{name}"
