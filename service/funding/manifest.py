"""What this area brings to the app (see service.core.manifest).

Funding rounds by equal shares.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="funding",
    models=("service.funding.models",),
    routes=(
        "service.funding.routes",
        "service.funding.pages",
    ),
    tasks=("service.funding.tasks",),
    demo=(DemoStep(120, "funding round", "service.funding.demo:seed_funding_round"),),
    sections=("service.funding.pages",),
)
