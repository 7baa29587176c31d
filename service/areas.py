"""The site's areas, in the order their routes are tried: the one list that the web app, the
worker, the database, the migrations and the demo read (through service.core.manifest).

Adding an area is one new package with its `manifest.py` plus one line here.
"""

from service import db
from service.accounts.manifest import AREA as ACCOUNTS
from service.applications.manifest import AREA as APPLICATIONS
from service.audit.manifest import AREA as AUDIT
from service.challenges.manifest import AREA as CHALLENGES
from service.config import Settings
from service.core import manifest
from service.core.manifest import Area, DemoStep
from service.currencies.manifest import AREA as CURRENCIES
from service.deliberation.manifest import AREA as DELIBERATION
from service.funding.manifest import AREA as FUNDING
from service.incubation.manifest import AREA as INCUBATION
from service.investors.manifest import AREA as INVESTORS
from service.matching.manifest import AREA as MATCHING
from service.notifications.manifest import AREA as NOTIFICATIONS
from service.opendata.manifest import AREA as OPENDATA
from service.panels.manifest import AREA as PANELS
from service.participation.manifest import AREA as PARTICIPATION
from service.rewards.manifest import AREA as REWARDS
from service.translation.manifest import AREA as TRANSLATION

# The site itself: health probes, the home page, the pages composed of several areas (an
# organization's, one's invitations), the platform's housekeeping jobs, and the demo's
# organizations and people, which every other area's demo builds on.
SITE = Area(
    name="site",
    routes=("service.health", "service.pages", "service.site_pages"),
    tasks=("service.core.tasks",),
    demo=(
        DemoStep(10, "organizations", "service.demo:seed_organizations"),
        DemoStep(20, "people", "service.demo:seed_people"),
    ),
)

AREAS: list[Area] = [
    SITE,
    ACCOUNTS,
    AUDIT,
    NOTIFICATIONS,
    CHALLENGES,
    APPLICATIONS,
    REWARDS,
    OPENDATA,
    MATCHING,
    INVESTORS,
    PARTICIPATION,
    DELIBERATION,
    INCUBATION,
    FUNDING,
    CURRENCIES,
    TRANSLATION,
    PANELS,
]

manifest.register(AREAS)

# For Tortoise's own command line (`tortoise makemigrations`), configured in pyproject.toml.
TORTOISE_ORM = db.tortoise_config(Settings())
