"""Server-rendered pages: Jinja2 environments with Babel's i18n extension.

A page is rendered many times for one compilation, so what can be decided once is decided
once: each language has its own environment in which `_("literal")` is translated when the
template is compiled (the text becomes part of the compiled template, with no call left at
render time); `url_for` looks each route up once per name and parameters; money and moments
are formatted through caches; and templates are not checked for changes on disk outside
development. `Templates.env` is the plain environment, translating at render time in the
request's language; it renders strings (`env.from_string`) and serves unknown languages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from service.config import ROOT
from service.core import i18n, web, zones

TEMPLATES_DIR = ROOT / "frontend" / "templates"
# The names templates call the gettext of the i18n extension by.
_GETTEXT_NAMES = frozenset({"_", "gettext"})


def _money(amount_minor: int, currency: str) -> str:
    return i18n.money(amount_minor, currency)


@jinja2.pass_context
def _datetime(
    ctx: jinja2.runtime.Context,
    value: datetime | date | None,
    fmt: str = "medium",
    zone: str | None = None,
) -> str:
    """A moment in the reader's language, always with its zone.

    `zone` is the city's (the organization's whose deadline it is): the moment is shown
    there with its name and offset ("27 Dec 2026, 18:00 Santiago time (UTC-3)"), then in
    the viewer's zone when the clocks there read otherwise ("— 22:00 your time (Madrid,
    UTC+1)"). Without `zone` it is shown in the viewer's zone alone. "date" gives the day
    only: in the city's zone when given, else the stored UTC day.
    """
    if value is None:
        return ""
    return moment_text(value, fmt, zone, ctx.get("viewer_zone"), i18n.current_locale.get())


@lru_cache(maxsize=8192)
def moment_text(
    value: datetime | date, fmt: str, zone: str | None, viewer_zone: str | None, language: str
) -> str:
    """The text of `_datetime`, cached: it depends on nothing else than these arguments (and
    the catalogs, read once), and a list page shows the same deadlines to every reader."""
    viewer = zones.zone(viewer_zone)
    city = zones.zone(zone) if zone else viewer
    if not isinstance(value, datetime):
        # A calendar date (the day a project step was taken): no moment, so no zone.
        return zones.date_text(value, language)
    if value.tzinfo is None:
        # Naive values from the database driver are UTC (the connection's zone).
        value = value.replace(tzinfo=UTC)
    if fmt == "date":
        # A date alone (a milestone's due day, a cohort's first day) is stored as a moment
        # of that UTC day: read elsewhere it would slip to the day before or after.
        day_zone = city if zone else zones.zone(zones.DEFAULT_ZONE)
        return zones.wall_clock(value, day_zone, language)[0]
    text = zones.describe(value, city, language)
    if zone and zones.differs(value, city, viewer):
        text = f"{text} — {zones.describe_other(value, viewer, language, than=city)}"
    return text


# (base URL, path, protocol, host) -> absolute URL; bounded like web.url_path's paths, since
# the base URL carries the request's Host header.
_ABSOLUTE: dict[tuple[str, str, str, str], URL] = {}
_ABSOLUTE_LIMIT = 20_000


@jinja2.pass_context
def _url_for(ctx: jinja2.runtime.Context, name: str, /, **path_params: Any) -> URL:
    """Starlette's `url_for` (an absolute URL), with the route looked up once per name and
    parameters instead of searched for on every call, and the absolute URL built once per
    base URL (Starlette parses and joins both on every call)."""
    request: Request = ctx["request"]
    path = web.url_path(request.scope["router"], name, **path_params)
    base = request.base_url
    key = (str(base), str(path), path.protocol, path.host)
    found = _ABSOLUTE.get(key)
    if found is None:
        found = path.make_absolute_url(base_url=base)
        if len(_ABSOLUTE) >= _ABSOLUTE_LIMIT:
            _ABSOLUTE.clear()
        _ABSOLUTE[key] = found
    return found


@lru_cache(maxsize=1024)
def _amount_hint_in(currency: str, language: str) -> str:
    from service.core.amounts import example_hint

    return example_hint(currency)


def _amount_hint(currency: str) -> str:
    """`amounts.example_hint` (an example amount formatted by Babel), kept per currency and
    language: it depends on nothing else."""
    return _amount_hint_in(currency, i18n.current_locale.get())


def _base_context(request: Request) -> dict[str, Any]:
    language = getattr(request.state, "language", i18n.DEFAULT_LANGUAGE)
    extra = getattr(request.app.state, "context_processors", [])
    context: dict[str, Any] = {
        "language": language,
        "languages": i18n.LANGUAGES,
        "request_id": getattr(request.state, "request_id", "-"),
    }
    for processor in extra:
        context.update(processor(request))
    return context


class _TranslateLiterals(NodeTransformer):
    """Replaces `_("literal", name=value)` by its translation, marked safe, formatted with
    the values: what the i18n extension's gettext returns at render time, without the call.

    Only in templates that escape (HTML): there the extension's gettext marks the translation
    safe, which is what is compiled in. Any other call (a variable message, `*args`) is left
    to the render-time gettext.
    """

    def __init__(self, language: str) -> None:
        self.language = language

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        self.generic_visit(node)
        if not (
            isinstance(node.node, nodes.Name)
            and node.node.name in _GETTEXT_NAMES
            and len(node.args) == 1
            and isinstance(node.args[0], nodes.Const)
            and isinstance(node.args[0].value, str)
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            return node
        text = i18n.translations(self.language).gettext(node.args[0].value)
        if not node.kwargs:
            try:
                # The extension always formats, even without values: "%%" reads "%".
                text = text % {}
            except (KeyError, ValueError, TypeError):
                return node
            return nodes.MarkSafe(nodes.Const(text), lineno=node.lineno)
        values = nodes.Dict(
            [nodes.Pair(nodes.Const(k.key), k.value, lineno=k.lineno) for k in node.kwargs],
            lineno=node.lineno,
        )
        return nodes.Mod(nodes.MarkSafe(nodes.Const(text)), values, lineno=node.lineno)


# What an included template may not hold to be inlined: nodes whose meaning depends on being
# a template of its own (blocks, inheritance, macros and imports exported from it), and names
# that an include does not hand over (`loop` of the including loop) or that name the template.
_NOT_INLINED = (nodes.Extends, nodes.Block, nodes.Macro, nodes.Import, nodes.FromImport)
_OWN_NAMES = frozenset({"loop", "self", "super", "caller", "varargs", "kwargs"})


class _InlineIncludes(NodeTransformer):
    """Replaces `{% include "literal" %}` by the included template's own nodes, in a scope of
    their own (`{% with %}`): what the include renders, without looking the template up and
    building a new context on each render (a list page includes a card per row).

    Only an include with its context, of a template found now, that escapes as the including
    template does and holds nothing of `_NOT_INLINED` or `_OWN_NAMES`; any other stays an
    include. The including template is compiled with the included one's text as it is now,
    so this is for environments that never reload a template (outside development).
    """

    def __init__(self, env: PageEnvironment, name: str | None, parents: frozenset[str]) -> None:
        self.env = env
        self.name = name
        self.parents = parents

    def visit_Include(self, node: nodes.Include) -> nodes.Node:
        target = node.template
        if not (
            isinstance(target, nodes.Const)
            and isinstance(target.value, str)
            and node.with_context
            and not node.ignore_missing
            and target.value not in self.parents
            and self.env._escapes(target.value) == self.env._escapes(self.name)
        ):
            return node
        body = self.env._inline_body(target.value, self.parents)
        if body is None:
            return node
        return nodes.Scope(body, lineno=node.lineno)


# Callables that cannot carry Jinja's pass_context marks (no attributes of their own) or carry
# them as an attribute of their function: what a page calls most (labels, `x.isoformat()`).
_PLAIN_CALLABLES = (FunctionType, MethodType, BuiltinFunctionType)


class PageContext(jinja2.runtime.Context):
    """Jinja's context, with `call` (every function call of a template) deciding what to pass
    from the callable's type and mark at once, instead of through several attribute checks;
    anything else is left to Jinja's own `call`."""

    def call(
        __self,  # Jinja's own signature: `self` may be a keyword argument of a call
        __obj: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if type(__obj) not in _PLAIN_CALLABLES:
            return super().call(__obj, *args, **kwargs)
        if getattr(__obj, "jinja_pass_arg", None) is not None:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class PageEnvironment(jinja2.Environment):
    """An environment that compiles the literal messages of HTML templates in one language
    (`language`), or none (None: everything is translated at render time); outside
    development (no `auto_reload`) included templates are compiled into those that include
    them."""

    context_class = PageContext
    language: str | None = None
    # Names of the templates being inlined into one another (against an include loop).
    _inlining: frozenset[str] = frozenset()

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = self._translated(super()._parse(source, name, filename), name)
        if self.auto_reload:
            return tree
        parents = self._inlining | ({name} if name else set())
        inlined = _InlineIncludes(self, name, frozenset(parents)).visit(tree)
        assert isinstance(inlined, nodes.Template)
        return inlined

    def _translated(self, tree: nodes.Template, name: str | None) -> nodes.Template:
        if self.language is None or not self._escapes(name):
            return tree
        # Shadowed names (a template's own `_`) keep their meaning: leave such a template be.
        assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
        if assigned & _GETTEXT_NAMES:
            return tree
        translated = _TranslateLiterals(self.language).visit(tree)
        assert isinstance(translated, nodes.Template)
        return translated

    def _inline_body(self, name: str, parents: frozenset[str]) -> list[nodes.Node] | None:
        """The nodes of template `name` (itself translated and inlined) to compile in place of
        an include of it; None when it is not found or must stay included."""
        if self.loader is None:
            return None
        try:
            source, filename, _ = self.loader.get_source(self, name)
        except jinja2.TemplateNotFound:
            return None
        kept = self._inlining
        self._inlining = parents
        try:
            tree = self._parse(source, name, filename)
        finally:
            self._inlining = kept
        if any(True for _ in tree.find_all(_NOT_INLINED)) or any(
            n.name in _OWN_NAMES for n in tree.find_all(nodes.Name)
        ):
            return None
        return list(tree.body)

    def _escapes(self, name: str | None) -> bool:
        autoescape = self.autoescape
        return bool(autoescape(name) if callable(autoescape) else autoescape)


class Templates(Jinja2Templates):
    """Starlette's templates, with one compiled copy of each template per language."""

    def __init__(self, env: PageEnvironment, languages: list[str]) -> None:
        super().__init__(env=env, context_processors=[_base_context])
        self.by_language: dict[str, jinja2.Environment] = {}
        for language in languages:
            overlay = env.overlay()
            assert isinstance(overlay, PageEnvironment)
            overlay.language = language
            self.by_language[language] = overlay

    def get_template(self, name: str) -> jinja2.Template:
        env = self.by_language.get(i18n.current_locale.get(), self.env)
        return env.get_template(name)


def create_templates(*, auto_reload: bool = True) -> Templates:
    """The page templates; `auto_reload` (development) re-reads a template changed on disk,
    at the cost of a file check on every render of it."""
    env = PageEnvironment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        auto_reload=auto_reload,
        # Every template of every language stays compiled (Jinja's default keeps 400).
        cache_size=-1,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    from service.core.vocab import area_label, kind_label, role_label, status_label

    env.globals.update(
        kind_label=kind_label,
        role_label=role_label,
        area_label=area_label,
        status_label=status_label,
        url_for=_url_for,
    )
    env.filters["money"] = _money
    # Amount fields: the example ("e.g. 20.000.000") and keyboard that fit the currency.
    from service.core.amounts import amount_inputmode

    env.globals.update(amount_hint=_amount_hint, amount_inputmode=amount_inputmode)
    env.filters["datetime"] = _datetime
    return Templates(env, list(i18n.LANGUAGES))
