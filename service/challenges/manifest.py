"""What this area brings to the app (see service.core.manifest).

Challenges, and for now the applications, judging, ranking and awards.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="challenges",
    models=("service.challenges.models",),
    routes=(
        "service.challenges.routes",
        "service.challenges.application_routes",
        "service.challenges.application_pages",
        "service.challenges.pages",
    ),
    tasks=("service.challenges.tasks",),
    demo=(DemoStep(40, "challenges", "service.challenges.demo:seed_challenges"),),
    personal_data=("service.challenges.personal_data",),
)
