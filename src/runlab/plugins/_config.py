"""Per-project plugin settings from ``[tool.runlab.plugins]`` of the nearest ``pyproject.toml``.

Example ``pyproject.toml``::

    [tool.runlab.plugins]
    disabled = ["notify"]          # never load these
    enabled = ["mlflow"]           # load these although they are off by default

    [tool.runlab.plugins.plot_track]  # settings handed to the plugin
    format = "svg"
"""

from __future__ import annotations

from dataclasses import field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import UsageError

__all__ = ["PluginConfig", "load_plugin_config"]

_RESERVED = {"enabled", "disabled"}


@value_class
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
    """Read ``[tool.runlab.plugins]`` of the nearest ``pyproject.toml`` (defaults when absent).

    Raises:
        UsageError: the section is not a table, ``enabled`` / ``disabled`` is not a list of
            names, or another key is not a table of settings (a misspelt ``disable = [...]``).

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "pyproject.toml").write_text('[tool.runlab.plugins]\\ndisable = ["notify"]\\n')
        >>> load_plugin_config(folder)
        Traceback (most recent call last):
        ...
        runlab.errors.UsageError: Unknown key 'disable' in [tool.runlab.plugins] of ...
    """
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
    for key, value in section.items():
        if key not in _RESERVED and not isinstance(value, dict):
            raise UsageError(_unknown_key(key, value, pyproject))
    config.settings = {k: dict(v) for k, v in section.items() if k not in _RESERVED}
    return config


def _unknown_key(key: str, value: Any, pyproject: Path) -> str:
    """The message for ``key = value`` in ``[tool.runlab.plugins]`` that is neither a list nor a settings table."""
    import difflib

    where = f"[tool.runlab.plugins] of {pyproject}"
    close = difflib.get_close_matches(key, sorted(_RESERVED), n=1, cutoff=0.6)
    if close:
        return f'Unknown key {key!r} in {where}. Did you mean {close[0]!r}? Write for example {close[0]} = ["notify"].'
    if isinstance(value, bool):
        switch = "disabled" if value is False else "enabled"
        return (
            f"Invalid value for {key!r} in {where}: {str(value).lower()}. Switch a plugin with "
            f'{switch} = ["{key}"]; its settings go in a table [tool.runlab.plugins.{key}].'
        )
    return (
        f"Invalid value for {key!r} in {where}: {value!r} is not a table of settings. Only enabled and disabled "
        f"are lists; the settings of plugin {key!r} go in a table [tool.runlab.plugins.{key}]."
    )
