"""What this area brings to the app (see service.core.manifest).

The audit log.
"""

from service.core.manifest import Area

AREA = Area(
    name="audit",
    models=("service.audit.models",),
)
