"""Finding a request's route without trying every route of the app.

Starlette's router tries its routes one after another until one matches: with several
hundred routes, a path near the end of the list (the challenge list, the API) costs a hundred
regular-expression matches per request. A route whose path begins with literal segments
("/api/v1/challenges/{id}", the "/static" mount) can only match paths beginning with those
same segments, so the routes are indexed by them (up to three) once; a request then tries, in
the app's own order, only the routes whose literal segments begin its path, and those that
could match any path (a parameter in the first segment, a host route). The first full match,
or else the first partial one (a method the route does not answer: 405), is the one
Starlette's scan would have found, since the routes left out cannot match at all. A path no
route matches is handed to Starlette's own scan, which answers it as it always did (a
redirect to the path with or without the slash, or a 404).
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

# How many leading segments of a path are looked up ("/api/v1/challenges": all three).
_DEPTH = 3


def _literal_prefix(path: str) -> tuple[str, ...] | None:
    """The literal leading segments of a path, at most `_DEPTH` ("/" has the one segment
    ""); None for a path that does not begin with "/"."""
    if not path.startswith("/"):
        return None
    prefix = []
    for segment in path[1:].split("/", _DEPTH)[:_DEPTH]:
        if "{" in segment:
            break
        prefix.append(segment)
    return tuple(prefix)


class IndexedRoutes:
    """The router's own dispatch (`Router.app`) over the routes whose literal leading
    segments are those of the path."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._indexed: list[BaseRoute] | None = None
        self._count = -1
        # Leading literal segments -> (position in the app's list, route).
        self._by_prefix: dict[tuple[str, ...], list[tuple[int, BaseRoute]]] = {}

    def _index(self) -> None:
        routes = self.router.routes
        by_prefix: dict[tuple[str, ...], list[tuple[int, BaseRoute]]] = {}
        for position, route in enumerate(routes):
            prefix = None
            if isinstance(route, Route | WebSocketRoute | Mount):
                prefix = _literal_prefix(route.path)
            # A route without a literal prefix (a host route) may match any path.
            by_prefix.setdefault(prefix or (), []).append((position, route))
        self._by_prefix = by_prefix
        self._indexed = routes
        self._count = len(routes)

    def candidates(self, route_path: str) -> list[BaseRoute]:
        """Every route that could match the path, in the app's order."""
        routes = self.router.routes
        if routes is not self._indexed or len(routes) != self._count:
            self._index()  # routes added (or the list replaced) since the last request
        if not route_path.startswith("/"):
            return routes
        segments = route_path[1:].split("/", _DEPTH)[:_DEPTH]
        found = [self._by_prefix.get(tuple(segments[:n])) for n in range(len(segments) + 1)]
        lists = [entries for entries in found if entries]
        if len(lists) == 1:
            return [route for _, route in lists[0]]
        return [route for _, route in sorted(e for entries in lists for e in entries)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.router.app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self.router
        partial = None
        partial_scope: Scope = {}
        for route in self.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await self.router.app(scope, receive, send)


def index_routes(router: Router) -> None:
    """Dispatch the router's requests through `IndexedRoutes` (a router wrapped in its own
    middleware is left as it is)."""
    if router.middleware_stack == router.app:
        router.middleware_stack = IndexedRoutes(router)
