"""What pages precompute gives the same answers as computing it on every request: messages
translated when a template is compiled, included templates compiled into those that include
them, route paths looked up once, money and numbers through cached formatters, and the access
log written in batches."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jinja2
import pytest
from babel.numbers import format_currency, format_decimal
from jinja2 import nodes
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Match, NoMatchFound, Route

from service import db
from service.accounts.models import OrganizationKind
from service.challenges.models import ChallengeStatus
from service.config import Env, Settings
from service.core import i18n, observability, routing, web
from service.core.money import to_major
from service.core.observability import AccessLog, ConstantAnswers, Metrics
from service.core.templates import PageEnvironment, Templates, create_templates
from service.participation.models import Proposal
from tests import factories
from tests.challenges.factories import make_draft_challenge


async def _pages(client: httpx.AsyncClient, language: str) -> dict[str, str]:
    found = {}
    for path in ("/", "/challenges", "/signin", "/register"):
        response = await client.get(path, params={"lang": language})
        assert response.status_code == 200, (path, response.text[:300])
        found[path] = response.text
    return found


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
async def test_pages_compiled_in_a_language_read_as_translated_at_render_time(
    app: Starlette, client: httpx.AsyncClient, language: str
) -> None:
    templates: Templates = app.state.templates
    compiled = await _pages(client, language)
    kept = templates.by_language
    templates.by_language = {}  # every language through the render-time gettext
    try:
        rendered = await _pages(client, language)
    finally:
        templates.by_language = kept
    assert compiled == rendered
    if language != "en":
        english = await _pages(client, "en")
        assert compiled["/challenges"] != english["/challenges"]


async def _seed_cards() -> int:
    """Challenges (one in another currency than the platform's) and proposals, so that the
    list and home pages include their cards."""
    org = await factories.make_org(kind=OrganizationKind.government, name="Card City")
    author = await factories.make_user()
    now = datetime.now(UTC)
    async with db.transaction(None):
        for n, currency in enumerate(["EUR", "CLP", "EUR"]):
            challenge = await make_draft_challenge(
                org,
                title=f"Card <{n}>",
                status=ChallengeStatus.open,
                published_at=now - timedelta(days=n),
                opens_at=now - timedelta(days=n + 1),
                closes_at=now + timedelta(days=n + 1),
                reward_amount_minor=123456 * (n + 1),
                currency=currency,
            )
        for n in range(2):
            await Proposal.create(
                author=author,
                title=f"Shade & water {n}",
                description="Hot summers.",
                region=org.region,
                support_count=n * 7,
                threshold_reached_at=now - timedelta(days=n),
            )
    return challenge.id


async def test_included_templates_compiled_in_read_as_included_at_render_time(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    challenge_id = await _seed_cards()
    inlined: Templates = app.state.templates
    assert not inlined.env.auto_reload
    # Compiled from the same files, with every include left to render time.
    included = create_templates(auto_reload=True)
    paths = ("/", "/challenges", f"/challenges/{challenge_id}", "/signin", "/proposals")
    for language in sorted(i18n.LANGUAGES):
        pages = []
        for templates in (inlined, included):
            app.state.templates = templates
            try:
                found = {}
                for path in paths:
                    response = await client.get(path, params={"lang": language})
                    assert response.status_code == 200, (path, response.text[:300])
                    found[path] = re.sub(r'name="csrf_token" value="[^"]*"', "", response.text)
                pages.append(found)
            finally:
                app.state.templates = inlined
        assert pages[0] == pages[1]
        assert "Card &lt;2&gt;" in pages[0]["/challenges"]
        assert "Shade &amp; water 1" in pages[0]["/"]
    # The cards are part of the list's compiled template: no include left in it.
    source = inlined.by_language["en"].loader.get_source(  # type: ignore[union-attr]
        inlined.by_language["en"], "challenges/list.html"
    )[0]
    assert '{% include "challenges/_card.html" %}' in source
    code = inlined.by_language["en"].compile(inlined.by_language["en"].parse(source), raw=True)
    assert "_card.html" not in code


def test_an_include_that_cannot_be_inlined_stays_an_include() -> None:
    loader = jinja2.DictLoader(
        {
            "page.html": '{% for x in xs %}{% include "row.html" %}{% endfor %}|'
            '{% include "looped.html" ignore missing %}|{% include "missing.html" ignore missing %}'
            '|{% include "block.html" %}|{% include "self.html" %}',
            "row.html": "<{{ x }}>{% set y = x %}{{ y }}",
            "looped.html": "{{ loop is defined }}",
            "block.html": "{% block b %}B{% endblock %}",
            "self.html": "S{% if deep %}{% include 'self.html' %}{% endif %}",
        }
    )
    for reload in (False, True):
        env = PageEnvironment(loader=loader, autoescape=True, auto_reload=reload)
        template = env.get_template("page.html")
        assert template.render(xs=["a", "&"], deep=False) == ("<a>a<&amp;>&amp;|False||B|S")
        code = env.compile(env.parse(loader.get_source(env, "page.html")[0]), raw=True)
        assert ("row.html" in code) is reload
        assert "block.html" in code and "self.html" in code


def _environment(language: str | None, *, autoescape: bool = True) -> PageEnvironment:
    env = PageEnvironment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.language = language
    return env


def _calls(env: PageEnvironment, source: str) -> list[str]:
    """The names called in a template as compiled (after literal messages were translated)."""
    tree = env.parse(source)
    return [c.node.name for c in tree.find_all(nodes.Call) if isinstance(c.node, nodes.Name)]


def test_literals_become_text_and_values_stay_escaped() -> None:
    source = '{{ _("Sign in") }}|{{ _("%(share)s%% of %(who)s", share=30, who=who) }}'
    env = _environment("es")
    # No gettext call is left for the literals: the Spanish text is in the compiled code.
    code = env.compile(env.parse(source), raw=True)
    assert "Iniciar sesión" in code and "'Sign in'" not in code
    assert _calls(env, source) == []
    text = env.from_string(source).render(who="<b>")
    assert text == "Iniciar sesión|30% of &lt;b&gt;"
    token = i18n.current_locale.set("es")
    try:
        assert _environment(None).from_string(source).render(who="<b>") == text
    finally:
        i18n.current_locale.reset(token)
    # A template that names something `_` itself keeps its own meaning.
    assert env.from_string('{% set _ = "x" %}{{ _ }}').render() == "x"
    # A message from a variable is translated at render time.
    assert _calls(env, "{{ _(message) }}") == ["_"]
    # Templates that do not escape (plain text) are left to the render-time gettext.
    plain = _environment("es", autoescape=False)
    assert _calls(plain, '{{ _("Sign in") }}') == ["_"]


def test_route_paths_are_the_routers(app: Starlette) -> None:
    router = app.router
    expected = router.url_path_for("static", path="site.css")
    found = web.url_path(router, "static", path="site.css")
    assert found == expected == "/static/site.css"
    assert web.url_path(router, "static", path="site.css") is found
    with pytest.raises(AttributeError):  # an unhashable value: the router decides, uncached
        web.url_path(router, "static", path=["unhashable"])
    with pytest.raises(NoMatchFound):
        web.url_path(router, "no-such-route")


@pytest.mark.parametrize(
    ("amount", "currency", "language"),
    [
        (4_530_000, "EUR", "en"),
        (4_530_000, "EUR", "es"),
        (123_456_789, "BRL", "pt"),
        (20_000_000, "CLP", "es"),
        (-5, "USD", "en"),
    ],
)
def test_money_reads_as_babel_writes_it(amount: int, currency: str, language: str) -> None:
    expected = format_currency(to_major(amount, currency), currency, locale=language)
    assert i18n.money(amount, currency, language) == expected
    token = i18n.current_locale.set(language)
    try:
        assert i18n.money(amount, currency) == expected
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.parametrize("value", [12345, 12345.6, Decimal("0.125"), -3])
@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
def test_numbers_read_as_babel_writes_them(value: int | float | Decimal, language: str) -> None:
    assert i18n.number(value, language) == format_decimal(value, locale=language)


async def test_access_lines_are_written_in_batches(capsys: pytest.CaptureFixture[str]) -> None:
    log = AccessLog()
    log.write("abc", "GET", '/x"\n', 200, 0.0123)
    # Within the event loop a line waits for its batch...
    assert capsys.readouterr().err == ""
    await asyncio.sleep(AccessLog.DELAY * 3)
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["path"] for line in lines] == ['/x"\n']
    assert json.loads(lines[0])["duration_ms"] == 12.3
    # ... or for a full batch, written at once.
    for n in range(AccessLog.BATCH):
        log.write("abc", "GET", f"/{n}", 200, 0.001)
    assert len(capsys.readouterr().err.splitlines()) == AccessLog.BATCH
    await asyncio.sleep(AccessLog.DELAY * 3)
    assert capsys.readouterr().err == ""


def test_access_lines_without_an_event_loop_are_written_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = AccessLog()
    log.write("abc", "POST", "/y", 503, 1.0)
    assert json.loads(capsys.readouterr().err)["status"] == 503


def test_list_rows_read_json_lists_once_and_each_row_keeps_its_own() -> None:
    from service.challenges import repository

    def row(sdgs: str) -> dict[str, object]:
        return {
            "sdgs": sdgs,
            "eligible_kinds": '["startup", "university"]',
            "opens_at": None,
            "closes_at": None,
            "published_at": None,
            repository.SORT_KEY: None,
            "reward_reference_date": "2026-05-01",
        }

    first, second = row("[3, 11]"), row("[3, 11]")
    repository._normalize_row(first)
    repository._normalize_row(second)
    assert first["sdgs"] == second["sdgs"] == [3, 11]
    assert first["eligible_kinds"] == ["startup", "university"]
    # Changing one row's list leaves the next row's (and the cache's) alone.
    assert isinstance(first["sdgs"], list)
    first["sdgs"].append(17)
    third = row("[3, 11]")
    repository._normalize_row(third)
    assert second["sdgs"] == third["sdgs"] == [3, 11]
    # Anything but a list of plain values is parsed as it is.
    nested = row('[{"goal": 3}]')
    repository._normalize_row(nested)
    assert nested["sdgs"] == [{"goal": 3}]


def _first_match(routes: list[Any], scope: dict[str, Any]) -> Any:
    """The route Starlette's scan dispatches to: the first full match, else the first
    partial one (a method the route does not answer)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def test_the_route_index_finds_the_route_the_full_scan_finds(app: Starlette) -> None:
    index = routing.IndexedRoutes(app.router)
    routes = app.router.routes
    assert len(routes) > 100
    paths = {"/", "", "/nowhere", "/static", "/static/site.css", "/api/v1/nowhere"}
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", getattr(route, "path", "/"))
        paths |= {path, path + "/", path.rstrip("/") or "/", path + "/x", "/x" + path}
    tried = 0
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            scope = {"type": "http", "path": path, "root_path": "", "method": method}
            found = _first_match(index.candidates(path), scope)
            assert found is _first_match(routes, scope), (method, path)
            tried += found is not None
    assert tried > len(routes)
    # Fewer routes are tried than the app has, for a path deep in the list.
    assert len(index.candidates("/challenges")) < len(routes) // 4
    assert len(index.candidates("/api/v1/challenges")) < len(routes) // 4
    # A route added later is found too.
    extra = Route("/zz-added", lambda request: PlainTextResponse("ok"))
    routes.append(extra)
    try:
        scope = {"type": "http", "path": "/zz-added", "root_path": "", "method": "GET"}
        assert _first_match(index.candidates("/zz-added"), scope) is extra
    finally:
        routes.remove(extra)


async def test_the_app_dispatches_through_the_route_index(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    assert isinstance(app.router.middleware_stack, routing.IndexedRoutes)
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/nowhere")).status_code == 404
    assert (await client.delete("/healthz")).status_code == 405


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in their order (the request id left out) and body."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


async def test_the_liveness_probe_is_answered_as_the_stack_answers_it(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    constant = app.middleware_stack
    if constant is None:
        await client.get("/healthz")
        constant = app.middleware_stack
    assert isinstance(constant, ConstantAnswers)
    constant.recorded.clear()
    first = await client.get("/healthz")
    assert "/healthz" in constant.recorded
    metrics: Metrics = app.state.metrics
    before = metrics.requests.labels("GET", "/healthz", "200")._value.get()
    again = [await client.get("/healthz") for _ in range(3)]
    given = await client.get("/healthz", headers={"X-Request-Id": "probe-12345678"})
    unsafe = await client.get("/healthz", headers={"X-Request-Id": 'no"good'})
    assert all(_answer(r) == _answer(first) for r in [*again, given, unsafe])
    assert first.json() == {"status": "ok"}
    assert "content-security-policy" in first.headers
    ids = {r.headers["x-request-id"] for r in [first, *again, unsafe]}
    assert len(ids) == 5 and 'no"good' not in ids
    assert given.headers["x-request-id"] == "probe-12345678"
    assert metrics.requests.labels("GET", "/healthz", "200")._value.get() == before + 5
    # Other methods and paths still go through the stack.
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.post("/healthz")).status_code == 405
    assert list(constant.recorded) == ["/healthz"]
    # Written to the access log like any request (when the log level lets it through).
    lines: list[str] = []
    observability._access.lines, kept = lines, observability._access.lines
    level = observability.access_log.level
    observability.access_log.setLevel(logging.INFO)
    try:
        await client.get("/healthz", headers={"X-Request-Id": "probe-87654321"})
    finally:
        observability.access_log.setLevel(level)
        observability._access.lines = kept
    assert [json.loads(line)["request_id"] for line in lines] == ["probe-87654321"]
    assert json.loads(lines[0])["path"] == "/healthz"


async def test_an_answer_that_is_not_plain_is_not_kept() -> None:
    calls = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        status = 503 if scope["path"] == "/down" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"x"})

    constant = ConstantAnswers(app, metrics=Metrics(), paths=("/down", "/noid"))
    transport = httpx.ASGITransport(app=constant)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for _ in range(2):
            assert (await http.get("/down")).status_code == 503
            assert (await http.get("/noid")).status_code == 200
    assert calls == ["/down", "/noid"] * 2 and constant.recorded == {}


def test_access_paths_are_written_as_json_writes_them() -> None:
    for path in ["/a/b?c=d", '/q"uote', "/back\\slash", "/caf\u00e9", "/tab\there", "/\x7f", ""]:
        assert observability._json_text(path) == json.dumps(path)


async def test_absolute_urls_are_kept_per_base_url(app: Starlette) -> None:
    templates: Templates = app.state.templates
    template = templates.env.from_string("{{ url_for('static', path='site.css') }}")
    for host in ("one.example", "two.example", "one.example"):
        scope = {
            "type": "http",
            "scheme": "https",
            "server": (host, 443),
            "path": "/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
            "router": app.router,
        }
        rendered = template.render(request=Request(scope))
        assert rendered == f"https://{host}/static/site.css"


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGES))
@pytest.mark.parametrize("currency", ["EUR", "CLP", "BHD"])
def test_amount_hints_are_kept_per_language(language: str, currency: str) -> None:
    from service.core.amounts import example_hint
    from service.core.templates import _amount_hint

    token = i18n.current_locale.set(language)
    try:
        assert _amount_hint(currency) == _amount_hint(currency) == example_hint(currency)
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.parametrize(
    "header",
    ["", "es", "pt-BR,pt;q=0.9", "es-MX, en;q=0.5", "de, fr", "*", "EN-us", ";q=1,,"],
)
def test_accept_language_reads_the_same_each_time(header: str) -> None:
    first = i18n.choose_language(None, None, header)
    i18n._negotiated.cache_clear()
    assert i18n.choose_language(None, None, header) == first
    assert i18n.choose_language("pt", "es", header) == "pt"
    assert i18n.choose_language("xx", "es", header) == "es"


@pytest.mark.parametrize(
    "header",
    [b"", b"lang=es", b"a=1; lang=pt; b=2", b"language=es", b'lang="es"', b"flang=es", b"lang"],
)
def test_the_language_cookie_is_read_as_a_cookie_parser_reads_it(header: bytes) -> None:
    from http.cookies import SimpleCookie

    cookies = SimpleCookie(header.decode("latin-1"))
    expected = cookies["lang"].value if "lang" in cookies else None
    assert i18n._cookie_lang(header) == expected


def test_template_calls_pass_what_jinjas_own_calls_pass() -> None:
    import types

    @jinja2.pass_context
    def with_context(ctx: Any, x: int) -> str:
        return f"{ctx['who']}{x}"

    @jinja2.pass_environment
    def with_env(env: Any, x: int) -> str:
        return f"{type(env).__name__}{x}"

    class Callable_:
        def __call__(self, x: int) -> str:
            return f"c{x}"

    def stops() -> None:
        raise StopIteration

    source = (
        "{% for x in [1, 2] %}{{ f(x) }}{{ g(x) }}{{ h(x) }}{{ k(x) }}{{ m(x) }}"
        "{{ '%02d'.format(x) }}"
        "{{ stops() is defined }}{% endfor %}{{ ns.label(3) }}"
    )
    values = {
        "who": "w",
        "f": with_context,
        "g": with_env,
        "h": Callable_(),
        "k": str,
        "m": lambda x: x * 2,
        "stops": stops,
        "ns": types.SimpleNamespace(label=lambda x: f"l{x}"),
    }
    page = PageEnvironment(autoescape=True)
    plain = jinja2.Environment(autoescape=True)
    assert page.from_string(source).render(**values) == plain.from_string(source).render(
        **values
    ).replace("Environment", "PageEnvironment")


async def test_production_start_up_leaves_what_it_built_out_of_collections(
    settings: Settings,
) -> None:
    from service.app import create_app

    production = settings.model_copy(update={"env": Env.production})
    for chosen, frozen in ((settings, False), (production, True)):
        gc.unfreeze()
        application = create_app(chosen)
        try:
            async with application.router.lifespan_context(application):
                assert (gc.get_freeze_count() > 0) is frozen
        finally:
            gc.unfreeze()
