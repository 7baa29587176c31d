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
    demo=(
        DemoStep(90, "proposals", "service.participation.demo:seed_proposals"),
        # Comments in other languages than the proposal's, for the translations' step (1000)
        # to translate: after every other area's step, as the demo's last texts.
        DemoStep(
            990,
            "comments in their language",
            "service.participation.demo:seed_comments_in_their_language",
        ),
    ),
    sections=("service.participation.pages",),
    personal_data=("service.participation.personal_data",),
)
