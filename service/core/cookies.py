"""The names of the app's cookies, shared by the sign-in (accounts) and the read routing
(service.db_routing), which must find the session cookie without knowing what a session is."""

from __future__ import annotations

from service.config import Settings

SESSION_COOKIE = "civic_session"


def host_cookie(settings: Settings, name: str) -> str:
    """Over https, `__Host-name`: the browser then demands Secure, path=/ and no Domain, so
    neither a plain-http page nor a sibling subdomain can set or overwrite the cookie."""
    return f"__Host-{name}" if settings.secure_cookies else name
