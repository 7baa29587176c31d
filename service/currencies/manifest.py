"""What this area brings to the app (see service.core.manifest).

Currencies: exchange rates and their pages.
"""

from service.core.manifest import Area, DemoStep

AREA = Area(
    name="currencies",
    models=("service.currencies.models",),
    routes=("service.currencies.pages",),
    demo=(DemoStep(30, "exchange rates", "service.currencies.demo:seed_rates"),),
)
