"""What this area brings to the app (see service.core.manifest).

Matching: scores between challenges and organizations, and recommendations.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="matching",
    models=("service.matching.models",),
    routes=("service.matching.routes",),
    tasks=("service.matching.tasks",),
    listeners=("service.matching.listeners",),
    demo=(DemoStep(60, "matching", "service.matching.demo:seed_matching"),),
)
