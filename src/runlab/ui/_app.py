"""The web application: JSON API under ``/api``, HTML pages, static files, the token check.

Read-only by construction: every route is a GET that reads the store through its query
API, so nothing a request sends can change a run. plotly.js is served from the installed
``plotly`` package; pages load nothing from other hosts, and a Content-Security-Policy
header tells the browser so.
"""

from __future__ import annotations

import hmac
import importlib.util
import mimetypes
import os
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.convertors import PathConvertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._version import __version__
from ..errors import AmbiguousRunError, FilterError, RunlabError, RunNotFoundError, SweepNotFoundError, UsageError
from ..store import Store
from ..store._files import dumps
from . import _queries, _sweeps
from ._files import confined_artifact, preview_kind, read_log

__all__ = ["LOCAL_HOSTS", "TOKEN_COOKIE", "create_app", "plotly_js"]

HERE = Path(__file__).resolve().parent
TOKEN_COOKIE = "runlab_token"
#: Host names a UI bound to a loopback address answers to.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class JSONBytes(Response):
    """JSON encoded with orjson (datetimes as ISO strings). Values are sent as ``_queries._json_value``
    makes them: a NaN or an infinity as the text ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content, indent=False)


def plotly_js() -> Path:
    """The ``plotly.min.js`` shipped inside the installed ``plotly`` package."""
    spec = importlib.util.find_spec("plotly")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise UsageError("The web UI needs plotly.js from the 'plotly' package: pip install 'runlab[ui]'.")
    return path


def _host_name(header: str) -> str:
    """The host of a ``Host`` header, without its port.

    Example:
        >>> _host_name("127.0.0.1:8765"), _host_name("[::1]:80"), _host_name("localhost")
        ('127.0.0.1', '::1', 'localhost')
    """
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _validation_message(exc: RequestValidationError) -> str:
    """One line naming the first bad value, what was expected and what to do."""
    errors = exc.errors()
    if not errors:
        return "Invalid request."
    first = errors[0]
    name = ".".join(str(part) for part in first.get("loc", ())[1:]) or "value"
    given = first.get("input")
    shown = f" {given!r}" if given is not None else ""
    expected = str(first.get("msg", "a valid value")).removeprefix("Input should be ")
    return f"Invalid {name}{shown}: expected {expected}; fix the value in the address."


def _status_of(exc: Exception) -> int:
    if isinstance(exc, (RunNotFoundError, SweepNotFoundError)):
        return 404
    if isinstance(exc, (FilterError, AmbiguousRunError, UsageError)):
        return 400
    return 500


class _AnyPath(PathConvertor):
    """Starlette's ``path``, newlines included (an artifact a user wrote with one in its name is listed,
    so it must be served too; confinement is checked on the name as for any other)."""

    regex = r"[\s\S]*"


register_url_convertor("anypath", _AnyPath())


class _HeadAsGet:
    """A HEAD request answers as the GET of the same address would, without the body.

    FastAPI routes answer only the methods they declare (a HEAD of ``/api/runs`` gave 405);
    HTTP clients, link checkers and monitors send HEAD to see whether an address is there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def create_app(
    root: str | os.PathLike[str] | Store | None = None,
    token: str | None = None,
    allowed_hosts: Collection[str] | None = None,
) -> FastAPI:
    """Build the UI application for a store.

    Args:
        root: the store (a path or a :class:`~runlab.store.Store`; default as in
            :func:`runlab.store.resolve_root`).
        token: when set, every request must carry it: ``?token=`` (which also sets a
            cookie), the cookie, or an ``Authorization: Bearer`` header.
        allowed_hosts: when set, requests whose ``Host`` header names another host are
            refused (403): a web page cannot reach a UI on 127.0.0.1 through DNS rebinding.

    Example:
        >>> import tempfile
        >>> from fastapi.testclient import TestClient
        >>> client = TestClient(create_app(tempfile.mkdtemp()))
        >>> client.get("/api/runs").json()["total"]
        0
    """
    store = root if isinstance(root, Store) else Store(root)
    plotly_path = plotly_js()
    app = FastAPI(
        title="runlab UI",
        version=__version__,
        description="Read-only JSON API over a runlab store; the UI's pages use it.",
        docs_url=None,  # Swagger UI would load scripts from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        default_response_class=JSONBytes,
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.state.store = store

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("root", str(store.root))
        return templates.TemplateResponse(request, name, {"version": __version__, **context}, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if allowed_hosts is not None and _host_name(request.headers.get("host", "")) not in allowed_hosts:
            return JSONBytes({"detail": "Unexpected Host header: open the UI at the address 'runlab ui' printed."}, 403)
        from_query = request.query_params.get("token")
        if token is not None:
            auth = request.headers.get("authorization", "")
            given = from_query or request.cookies.get(TOKEN_COOKIE) or auth.removeprefix("Bearer ").strip()
            if not given or not hmac.compare_digest(given.encode(), token.encode()):
                message = "This runlab UI needs its token: open the address (with ?token=...) that 'runlab ui' printed."
                if request.url.path.startswith("/api"):
                    return JSONBytes({"detail": message}, status_code=401)
                return HTMLResponse(f"<!doctype html><title>runlab: token needed</title><p>{message}</p>", 401)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        # other sites' pages may not embed what the UI serves (an artifact as an <img> tells them it exists)
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        if token is not None and from_query:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    def _error(request: Request, exc: Exception) -> Response:
        status = _status_of(exc)
        if request.url.path.startswith("/api"):
            body: dict[str, Any] = {"detail": str(exc)}
            if isinstance(exc, FilterError):
                body.update(expression=exc.expression, position=exc.position)
            return JSONBytes(body, status_code=status)
        title = (
            ("Sweep or study not found" if isinstance(exc, SweepNotFoundError) else "Run not found")
            if status == 404
            else "Bad request"
        )
        return page(request, "error.html", status, title=title, message=str(exc))

    @app.exception_handler(RunlabError)
    async def runlab_error(request: Request, exc: RunlabError) -> Response:
        return _error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """An address the UI does not have: the HTML 404 page for a page address, JSON under /api."""
        if exc.status_code == 404 and not request.url.path.startswith(("/api", "/static")):
            return page(request, "error.html", 404, title="Page not found",
                        message=f"There is no page {request.url.path!r}; start from the runs page.")  # fmt: skip
        return JSONBytes({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_query(request: Request, exc: RequestValidationError) -> Response:
        """A query value of the wrong type (``offset=abc``): a 400 whose ``detail`` is one line, as for
        every other bad value (FastAPI's own answer is a 422 with a list)."""
        return _error(request, UsageError(_validation_message(exc)))

    # -- JSON API ---------------------------------------------------------------------
    @app.get("/api/runs", tags=["runs"], summary="A page of runs")
    def api_runs(
        where: Annotated[str | None, Query(description="Filter, e.g. params.lr < 0.01 and status == 'done'")] = None,
        sort: Annotated[str | None, Query(description="Field to order by, '-' descending (default -created)")] = None,
        offset: Annotated[int, Query(description="Runs to skip")] = 0,
        limit: Annotated[int, Query(description="Runs per page (1-1000)")] = 50,
        column: Annotated[
            list[str] | None, Query(description="A field to show, e.g. params.lr; repeat for more (any name)")
        ] = None,
        columns: Annotated[
            list[str] | None, Query(description="Fields to show, comma-separated (names without commas)")
        ] = None,
        archived: Annotated[str, Query(description="Archived runs: no, only or all")] = "no",
    ) -> Any:
        """Runs matching ``where``, sorted, one page, with the chosen columns (those of ``columns``, then
        each ``column``). A bad filter is a 400 whose ``detail`` shows the expression with a caret under
        the problem."""
        chosen = [*_queries.split_columns(columns), *(column or [])]
        return _queries.runs_page(store, where, sort, offset, limit, chosen, archived)

    @app.get("/api/fields", tags=["runs"], summary="Parameter and metric names for the column chooser")
    def api_fields(
        q: Annotated[str, Query(description="Part of the name")] = "",
        limit: Annotated[int, Query(ge=1, le=5000, description="At most this many names of each kind")] = 200,
    ) -> Any:
        return _queries.field_names(store, q, limit)

    @app.get("/api/runs/{ref}", tags=["run"], summary="One run: record, data, artifacts, git, env, plugins")
    def api_run(ref: str) -> Any:
        return _queries.run_details(store, ref)

    @app.get("/api/runs/{ref}/metrics", tags=["run"], summary="Metric points, downsampled on the server")
    def api_metrics(
        ref: str,
        name: Annotated[list[str] | None, Query(description="Metric names (default: all)")] = None,
        points: Annotated[int, Query(description="At most this many points per series (4-100000)")] = 1000,
        start: Annotated[float | None, Query(description="First step (a zoomed window)")] = None,
        end: Annotated[float | None, Query(description="Last step")] = None,
    ) -> Any:
        """Series longer than ``points`` keep each bucket's minimum and maximum (``downsampled`` is true)."""
        return _queries.metric_series(store, ref, name or [], points, start, end)

    @app.get("/api/runs/{ref}/log", tags=["run"], summary="The run's output log from a byte offset")
    def api_log(ref: str, offset: Annotated[int, Query(description="Byte offset; negative for the tail")] = -1) -> Any:
        rec = _queries.load_run(store, ref)
        return {**read_log(rec.path, offset), "status": rec.status, "live": rec.status in ("created", "running")}

    @app.get("/api/runs/{ref}/artifacts/{name:anypath}", tags=["run"], summary="One artifact file",
             response_class=FileResponse)  # fmt: skip
    def api_artifact(ref: str, name: str) -> Response:
        """Paths are confined to the run's ``artifacts/`` folder: anything else is a 404."""
        rec = _queries.load_run(store, ref)
        path = confined_artifact(rec.path, name)
        if path is None:
            raise RunNotFoundError(f"Run {rec.id} has no artifact {name!r}.")
        kind = preview_kind(name)
        media = {"text": "text/plain; charset=utf-8", "json": "application/json"}.get(kind)
        if kind == "image":
            media = mimetypes.guess_type(name)[0]
        # anything else downloads as bytes: never a type the browser would run as a script (Python's own
        # table, without /etc/mime.types, says application/javascript for .js) or show as a page
        media = media or "application/octet-stream"
        inline = kind in ("image", "text", "json")
        response = FileResponse(path, media_type=media, content_disposition_type="inline" if inline else "attachment",
                                filename=path.name)  # fmt: skip
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
        return response

    @app.get("/api/compare", tags=["compare"], summary="Runs side by side: params, curves, groups")
    def api_compare(
        ids: Annotated[list[str] | None, Query(description="Run IDs (repeat or comma-separate)")] = None,
        metric: Annotated[str | None, Query(description="Metric to plot (default: the first)")] = None,
        group_by: Annotated[str | None, Query(description="Field whose value groups runs, e.g. params.lr")] = None,
        points: Annotated[int, Query(description="Points per curve (4-100000)")] = 500,
    ) -> Any:
        refs = [i.strip() for text in ids or [] for i in text.split(",")]
        return _queries.compare(store, refs, metric, group_by, points)

    @app.get("/api/sweeps", tags=["sweeps"], summary="The store's sweeps, newest first")
    def api_sweeps() -> Any:
        return {"sweeps": _sweeps.sweep_list(store)}

    @app.get("/api/sweeps/{ref}", tags=["sweeps"], summary="A sweep: swept parameters against final metrics")
    def api_sweep(
        ref: str,
        sort: Annotated[
            str | None, Query(description="Order rows by a field, e.g. -metrics.acc (default: configs)")
        ] = None,
    ) -> Any:
        """One row per config: its run, state, the parameters that vary and each metric's last value.
        An unknown sweep is a 404."""
        return _sweeps.sweep_details(store, ref, sort)

    @app.get("/api/studies", tags=["studies"], summary="The store's Optuna studies, newest first")
    def api_studies() -> Any:
        return {"studies": _sweeps.study_list(store)}

    @app.get("/api/studies/{name}", tags=["studies"], summary="A study: history, importances, trials, best trial")
    def api_study(name: str) -> Any:
        """Read-only on the study's storage (nothing is created); an unknown study is a 404. Parameter
        importances are Optuna's, computed on the server once enough trials are complete."""
        return _sweeps.study_details(store, name)

    # -- pages ------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request) -> HTMLResponse:
        return page(request, "runs.html", title="Runs")

    @app.get("/runs/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(request: Request, ref: str) -> HTMLResponse:
        rec = _queries.load_run(store, ref)
        return page(request, "run.html", title=rec.name or rec.id, run_id=rec.id)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request) -> HTMLResponse:
        return page(request, "compare.html", title="Compare")

    @app.get("/sweeps", response_class=HTMLResponse, include_in_schema=False)
    def sweeps_page(request: Request) -> HTMLResponse:
        return page(request, "sweeps.html", title="Sweeps", kind="sweeps")

    @app.get("/sweeps/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def sweep_page(request: Request, ref: str) -> HTMLResponse:
        from ..sweep import load_sweep

        record = load_sweep(store.root, ref)
        return page(request, "sweep.html", title=f"sweep {record.name or record.id}", sweep_id=record.id)

    @app.get("/studies", response_class=HTMLResponse, include_in_schema=False)
    def studies_page(request: Request) -> HTMLResponse:
        return page(request, "sweeps.html", title="Studies", kind="studies")

    @app.get("/studies/{name}", response_class=HTMLResponse, include_in_schema=False)
    def study_page(request: Request, name: str) -> HTMLResponse:
        record = _sweeps.find_study(store, name)
        return page(request, "study.html", title=f"study {record.name}", study_name=record.name)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(_HeadAsGet)  # the outermost: the token and host checks see the GET
    return app
