"""What this area brings to the app (see service.core.manifest).

Applications to challenges, consortia (partners), judging (judge assignments, reviews, judge
invitations), ranking and awards. It builds on challenges (a challenge is what one applies
to); rewards builds on it (an award's money goes to its lead and partners), and keeps that
money through service.applications.escrow.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="applications",
    models=("service.applications.models",),
    # No pattern of these is one of the challenges' (nor the reverse): listed after them.
    routes=(
        "service.applications.routes",
        "service.applications.pages",
    ),
    # What the challenges area asks of a challenge's applications (service.challenges.hooks).
    listeners=("service.applications.listeners",),
    demo=(DemoStep(45, "applications", "service.applications.demo:seed_applications"),),
    personal_data=("service.applications.personal_data",),
)
