"""Per-project plugin settings from ``[tool.runlab.plugins]`` of the nearest ``pyproject.toml``.

Example ``pyproject.toml``::

    [tool.runlab.plugins]
    disabled = ["notify"]          # never load these
    enabled = ["mlflow"]           # load these although they are off by default

    [tool.runlab.plugins.plot_track]  # settings handed to the plugin
    format = "svg"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["PluginConfig", "load_plugin_config"]

_RESERVED = {"enabled", "disabled"}


@dataclass
class PluginConfig:
    """The plugin section of a project's configuration."""

    project_dir: Path | None = None
    disabled: set[str] = field(default_factory=set)
    enabled: set[str] = field(default_factory=set)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None

    def is_enabled(self, name: str, default: bool = True) -> bool:
        if name in self.disabled:
            return False
        return True if name in self.enabled else default


def _names(value: Any, key: str, pyproject: Path) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(
            f"Invalid value for 'plugins.{key}' in [tool.runlab] of {pyproject}: {value!r} is not a list of "
            f'plugin names. Write for example {key} = ["notify"].'
        )
    return set(value)


def load_plugin_config(start: Path | None = None) -> PluginConfig:
    """Read ``[tool.runlab.plugins]`` of the nearest ``pyproject.toml`` (defaults when absent)."""
    from ..store._root import find_pyproject, read_toml

    pyproject = find_pyproject(start)
    if pyproject is None:
        return PluginConfig()
    config = PluginConfig(project_dir=pyproject.parent, source=pyproject)
    text = pyproject.read_text(encoding="utf-8")
    if "runlab" not in text:
        return config
    data = read_toml(pyproject, text)
    section = data.get("tool", {}).get("runlab", {}).get("plugins", {})
    if not isinstance(section, dict):
        raise UsageError(
            f"Invalid value for 'plugins' in [tool.runlab] of {pyproject}: expected a table such as "
            '[tool.runlab.plugins] with disabled = ["notify"].'
        )
    if "disabled" in section:
        config.disabled = _names(section["disabled"], "disabled", pyproject)
    if "enabled" in section:
        config.enabled = _names(section["enabled"], "enabled", pyproject)
    config.settings = {k: dict(v) for k, v in section.items() if k not in _RESERVED and isinstance(v, dict)}
    return config
