"""What this area brings to the app (see service.core.manifest).

Deliberation: opinion maps of what residents agree on.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="deliberation",
    models=("service.deliberation.models",),
    routes=(
        "service.deliberation.routes",
        "service.deliberation.pages",
    ),
    tasks=("service.deliberation.tasks",),
    demo=(DemoStep(100, "opinion map", "service.deliberation.demo:seed_conversation"),),
    sections=("service.deliberation.pages",),
    personal_data=("service.deliberation.personal_data",),
)
