"""What this area brings to the app (see service.core.manifest).

Participation: residents' proposals, supports and comments.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="participation",
    models=("service.participation.models",),
    routes=(
        "service.participation.routes",
        "service.participation.pages",
    ),
    tasks=("service.participation.tasks",),
    # What the challenges area asks of the proposals (service.challenges.proposals).
    listeners=("service.participation.listeners",),
    demo=(DemoStep(90, "proposals", "service.participation.demo:seed_proposals"),),
    sections=("service.participation.pages",),
    personal_data=("service.participation.personal_data",),
)
