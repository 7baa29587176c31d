"""What this area brings to the app (see service.core.manifest).

Translation of what people write.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="translation",
    models=("service.translation.models",),
    tasks=("service.translation.tasks",),
    demo=(DemoStep(1000, "translations", "service.translation.demo:seed_translations"),),
)
