"""What this area brings to the app (see service.core.manifest).

Citizens' panels chosen by fair sortition.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="panels",
    models=("service.panels.models",),
    routes=(
        "service.panels.routes",
        "service.panels.pages",
    ),
    tasks=("service.panels.tasks",),
    demo=(DemoStep(110, "citizens' panel", "service.panels.demo:seed_panel"),),
    sections=("service.panels.pages",),
    personal_data=("service.panels.personal_data",),
)
