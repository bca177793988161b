"""The local web UI (``runlab ui``): browse, plot and compare runs in a browser.

Needs the ``ui`` extra (``pip install 'runlab[ui]'``: FastAPI, uvicorn, Jinja2, plotly);
``import runlab`` never imports this package. See ``docs/ui.md``.

Example:
    >>> import tempfile
    >>> from runlab.ui import create_app
    >>> app = create_app(tempfile.mkdtemp())
    >>> app.openapi_url
    '/api/openapi.json'
"""

from ._app import create_app, plotly_js
from ._downsample import band, minmax_buckets
from ._files import confined_artifact
from ._serve import bind, is_loopback, serve

__all__ = ["band", "bind", "confined_artifact", "create_app", "is_loopback", "minmax_buckets", "plotly_js", "serve"]
