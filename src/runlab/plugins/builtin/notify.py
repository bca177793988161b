"""``notify``: a desktop notification when a run finishes (desktop-notifier)."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..._version import __version__
from .._plugin import Plugin, hook

__all__ = ["NotifyPlugin", "desktop_session"]

_FINISHED = ("completed", "failed", "cancelled", "pruned")


def desktop_session() -> bool:
    """True where a notification can be shown: macOS, Windows, or Linux with a D-Bus session."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) and bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


class NotifyPlugin(Plugin):
    """Show a desktop notification when a run finishes.

    Silent where there is no desktop session (servers, CI, SSH). Switch it per run with the
    parameter ``__NOTIFY__`` (False: no notification; experiments get it as a default
    through ``before_experiment_parameters``) or per project with ``notify = false`` in
    ``[tool.runlab.plugins.notify]``.
    """

    name = "notify"
    version = __version__
    author = "runlab developers"
    tags = ("notification", "builtin")
    dependencies = ("desktop-notifier",)
    requires = ("desktop_notifier",)
    install_hint = "pip install 'runlab[notify]'"

    def initialize(self, context: Any) -> None:
        self.sent: list[tuple[str, str]] = []

    @hook("before_experiment_parameters")
    def add_parameter(self, parameters: Any = None) -> None:
        """Offer ``__NOTIFY__`` (default: the project's ``notify`` setting, else True)."""
        if parameters is not None and hasattr(parameters, "setdefault"):
            parameters.setdefault("__NOTIFY__", bool(self.settings.get("notify", True)))

    def wanted(self, run: Any) -> bool:
        """Whether ``run`` should be announced: ``__NOTIFY__`` wins over the project setting."""
        params = getattr(run, "params", {}) or {}
        return bool(params.get("__NOTIFY__", self.settings.get("notify", True)))

    @staticmethod
    def message(run: Any, status: str) -> tuple[str, str]:
        """The notification's title and body for ``run`` ending in ``status``."""
        meta = run.metadata
        label = meta.get("name") or meta.get("experiment") or run.id
        duration = meta.get("duration")
        took = f" after {duration:.1f}s" if isinstance(duration, (int, float)) else ""
        error = (meta.get("error") or {}).get("message")
        body = f"Run {run.id} ({meta.get('namespace')}) {status}{took}."
        if error:
            body += f"\n{error[:200]}"
        return f"runlab: {label} {status}", body

    @hook("run_state_changed", priority=-20)
    def notify(self, run: Any, new: str) -> bool:
        """Send the notification when ``run`` finishes; returns whether one was sent."""
        if new not in _FINISHED or not self.wanted(run) or not desktop_session():
            return False
        from desktop_notifier import DesktopNotifierSync

        title, body = self.message(run, new)
        DesktopNotifierSync(app_name="runlab").send(title=title, message=body)
        self.sent.append((title, body))
        return True
