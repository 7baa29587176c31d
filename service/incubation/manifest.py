"""What this area brings to the app (see service.core.manifest).

Incubation: cohorts, mentors and pilots.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="incubation",
    models=("service.incubation.models",),
    routes=(
        "service.incubation.routes",
        "service.incubation.pages",
    ),
    tasks=("service.incubation.tasks",),
    demo=(DemoStep(80, "incubation", "service.incubation.demo:seed_incubation"),),
    sections=("service.incubation.sections",),
)
