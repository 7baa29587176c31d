"""What this area brings to the app (see service.core.manifest).

Investors: theses, deal flow, watchlists and introductions.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="investors",
    models=("service.investors.models",),
    routes=(
        "service.investors.routes",
        "service.investors.pages",
    ),
    tasks=("service.investors.tasks",),
    demo=(DemoStep(70, "investors", "service.investors.demo:seed_investors"),),
)
