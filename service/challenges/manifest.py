"""What this area brings to the app (see service.core.manifest).

Challenges: authoring, lifecycle, questions, attachments and feeds. The applications made to a
challenge, its judging and awards are the applications area's (service.applications), which
builds on this one; what the challenge page shows of them comes through
service.challenges.hooks.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="challenges",
    models=("service.challenges.models",),
    routes=(
        "service.challenges.routes",
        "service.challenges.pages",
    ),
    tasks=("service.challenges.tasks",),
    listeners=("service.challenges.references",),
    demo=(DemoStep(40, "challenges", "service.challenges.demo:seed_challenges"),),
    personal_data=("service.challenges.personal_data",),
)
