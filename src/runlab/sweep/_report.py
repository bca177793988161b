"""``runlab study report``: one self-contained HTML page of a study's plots and trials.

The plots are Optuna's (``optuna.visualization``, plotly figures); plotly.js is embedded
once from the installed plotly package, so the page works offline (no CDN).
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_report"]


def _figures(study: Any) -> list[tuple[str, Any]]:
    """``(title, figure or the reason it is missing)`` for every plot that fits the study."""
    from optuna import visualization as vis

    multi = len(study.directions) > 1
    first = (lambda t: t.values[0]) if multi else None
    plots: list[tuple[str, Any]] = []
    if multi:
        plots.append(("Pareto front", lambda: vis.plot_pareto_front(study)))
    target_name = "objective 0" if multi else "Objective Value"
    plots += [
        ("Optimisation history", lambda: vis.plot_optimization_history(study, target=first, target_name=target_name)),
        ("Parameter importances", lambda: vis.plot_param_importances(study, target=first)),
        ("Parallel coordinates", lambda: vis.plot_parallel_coordinate(study, target=first)),
        ("Slices", lambda: vis.plot_slice(study, target=first)),
        ("Contour", lambda: vis.plot_contour(study, target=first)),
    ]  # fmt: skip
    if any(t.intermediate_values for t in study.get_trials(deepcopy=False)):
        plots.append(("Intermediate values", lambda: vis.plot_intermediate_values(study)))
    out = []
    for title, make in plots:
        try:
            with warnings.catch_warnings():  # optuna's notes on targets and experimental features
                warnings.simplefilter("ignore")
                out.append((title, make()))
        except Exception as exc:  # e.g. importances need two completed trials
            out.append((title, f"not available: {type(exc).__name__}: {exc}"))
    return out


def write_report(study: Any, record: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]], out: Path) -> Path:
    """Write ``out/index.html`` (plots and the trials table); returns its path."""
    from plotly.offline import get_plotlyjs

    out.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>study {html.escape(study.study_name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}.missing{color:#888}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>study {html.escape(study.study_name)}</h1>",
        f"<p>experiment {html.escape(str(record.data.get('experiment')))}; objectives "
        f"{html.escape(', '.join(record.data.get('objectives') or []))} "
        f"({html.escape(', '.join(record.data.get('directions') or []))}); {len(rows)} trial(s)</p>",
    ]
    for title, figure in _figures(study):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if isinstance(figure, str):
            parts.append(f"<p class='missing'>{html.escape(figure)}</p>")
        else:
            parts.append(figure.to_html(full_html=False, include_plotlyjs=False))
    parts.append("<h2>Trials</h2><table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>")
    for row in rows:
        cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table></body></html>")
    path = out / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
