"""What this area brings to the app (see service.core.manifest).

Open data: datasets, OCDS and the public dashboards.
"""

from service.core.manifest import Area

AREA = Area(
    name="opendata",
    routes=("service.opendata.routes", "service.opendata.pages"),
    sections=("service.opendata.provenance",),
)
