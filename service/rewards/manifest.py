"""What this area brings to the app (see service.core.manifest).

Rewards: escrow, milestones, payouts, refunds and the ledger.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="rewards",
    models=("service.rewards.models",),
    routes=(
        "service.rewards.routes",
        "service.rewards.pages",
    ),
    tasks=("service.rewards.tasks",),
    listeners=("service.rewards.listeners",),
    demo=(
        # The challenges' escrow, between their step (40) and the applications' (45), which
        # awards them.
        DemoStep(42, "escrow", "service.rewards.demo:seed_escrow"),
        DemoStep(50, "rewards", "service.rewards.demo:seed_rewards"),
        DemoStep(55, "dates of the money", "service.rewards.demo_dates:date_money"),
    ),
    sections=("service.rewards.sections",),
    personal_data=("service.rewards.personal_data",),
)
