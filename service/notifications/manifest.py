"""What this area brings to the app (see service.core.manifest).

Notifications: in-app notices and the e-mail outbox.
"""

from service.core.manifest import Area

AREA = Area(
    name="notifications",
    models=("service.notifications.models",),
    routes=("service.notifications.pages",),
    tasks=("service.notifications.tasks",),
)
