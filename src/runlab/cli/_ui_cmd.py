"""``runlab ui``: the local web UI (needs the ``ui`` extra)."""

from __future__ import annotations

import click

from ..errors import UsageError
from ._main import cli, root_option

UI_MODULES = ("fastapi", "uvicorn", "jinja2", "plotly")


def _check_extra() -> None:
    missing = []
    for name in UI_MODULES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise UsageError(f"'runlab ui' needs the 'ui' extra ({', '.join(missing)} missing): pip install 'runlab[ui]'.")


@cli.command("ui")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Any other than localhost warns and requires the printed token.")  # fmt: skip
@click.option("--port", type=int, default=8765, show_default=True, help="Port; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the UI in the default browser.")
@root_option
@click.pass_context
def ui(ctx: click.Context, host: str, port: int, open_browser: bool) -> None:
    """Browse, plot and compare runs in a browser (read-only).

    Serves the runs table, run pages with metric charts, logs and artifacts, and a compare
    page, plus a JSON API under /api (schema at /api/openapi.json). Nothing is loaded from
    the internet. Needs the 'ui' extra: pip install 'runlab[ui]'.

    \b
    Examples:
      runlab ui                       # http://127.0.0.1:8765/
      runlab ui --port 0 --open       # any free port, open the browser
      runlab ui --host 0.0.0.0        # other machines too: prints a token to use
    """
    _check_extra()
    from ..ui import serve

    root = (ctx.find_root().obj or {}).get("root")
    serve(root, host=host, port=port, open_browser=open_browser, echo=lambda line, err: click.echo(line, err=err))
