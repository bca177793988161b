"""``runlab.run_script``: run a plain script once per config (a config, a list, a generator or a config file)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from ..errors import ValidationError
from ..lifecycle import Run
from ..params import Config, ConfigGenerator, iter_configs
from ..store._store import Store
from ._loader import check_inject
from ._script import Script, ScriptConfig, ScriptExecutor, _as_config
from ._script_params import typed_file_configs

__all__ = ["run_script"]


def _configs(config: ScriptConfig) -> tuple[Iterator[Config], bool]:
    """The configs to run, lazily, and whether there is exactly one by construction."""
    if config is None:
        return iter([Config()]), True
    if isinstance(config, (Config, Mapping)):
        single = _as_config(config, "config")
        check_inject(single.globals_dict)
        return iter([single]), True
    if isinstance(config, (str, os.PathLike)):  # a config_gen() is asked for each next config after a run
        return iter_configs(os.fspath(config))
    if isinstance(config, (bytes, bytearray)) or not isinstance(config, Iterable):
        raise ValidationError(
            f"Invalid config {config!r}: expected a runlab.Config, a dict of globals, a list or generator of "
            "Configs, or the path of a config file."
        )
    return (_as_config(item, f"config item {i + 1}") for i, item in enumerate(config)), False


@overload
def run_script(
    path: str | os.PathLike[str],
    config: Config | Mapping[str, Any] | None = None,
    entrypoint: str | None = None,
    run_as_main: bool = True,
    *,
    root: str | os.PathLike[str] | Store | None = None,
    namespace: str | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
    links: Mapping[str, Any] | None = None,
    capture: bool = True,
) -> Run: ...
@overload
def run_script(
    path: str | os.PathLike[str],
    config: ConfigGenerator | Iterable[Config],
    entrypoint: str | None = None,
    run_as_main: bool = True,
    *,
    root: str | os.PathLike[str] | Store | None = None,
    namespace: str | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
    links: Mapping[str, Any] | None = None,
    capture: bool = True,
) -> list[Run]: ...
@overload
def run_script(
    path: str | os.PathLike[str],
    config: str | os.PathLike[str],
    entrypoint: str | None = None,
    run_as_main: bool = True,
    *,
    root: str | os.PathLike[str] | Store | None = None,
    namespace: str | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
    links: Mapping[str, Any] | None = None,
    capture: bool = True,
) -> Run | list[Run]: ...
def run_script(
    path: str | os.PathLike[str],
    config: ScriptConfig = None,
    entrypoint: str | None = None,
    run_as_main: bool = True,
    *,
    root: str | os.PathLike[str] | Store | None = None,
    namespace: str | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
    links: Mapping[str, Any] | None = None,
    capture: bool = True,
) -> Run | list[Run]:
    """Run a plain Python script as an experiment: one run per config, globals injected.

    Args:
        path: the ``.py`` file; ``"train.py:fit"`` also names the entry point.
        config: ``None``; a :class:`~runlab.Config` or a dict of globals (one run); a
            :class:`~runlab.ConfigGenerator` or list of Configs (a sweep, in order); or a config
            file (``.py`` with ``config_gen()``/``CONFIG``, ``.yml``, ``.toml``, ``.json``).
        entrypoint: the function to call; discovered when None.
        run_as_main: run with ``__name__ == "__main__"``.
        root, namespace, name, tags, description, links, capture: the runs' settings (see
            :class:`ScriptExecutor`).
        params: extra run parameters, recorded but not injected.

    Returns:
        The finished :class:`~runlab.Run` for a single config (a config file with exactly one
        config included); the list of runs for a generator or list of configs, or a file with several.

    Raises:
        ExperimentNotFoundError, ValidationError, ConfigError: bad input, before any run exists (a
            config file's values are typed as ``runlab run -c`` types them: a value that does not fit
            its global's type is a ``ParameterError`` before that config's run).
        BaseException: the script's exception once its run is recorded as failed; a sweep stops there.

    Example:
        >>> import pathlib, tempfile, runlab
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "square.py"
        >>> _ = f.write_text("x = 2\\nif __name__ == '__main__':\\n    print(x * x)\\n")
        >>> runs = runlab.run_script(f, [runlab.Config({"x": 3}), runlab.Config({"x": 4})], root=f.parent / "r",
        ...                          capture=False)
        9
        16
        >>> [r.params["x"] for r in runs]
        [3, 4]
    """
    script = Script(path, config, entrypoint, run_as_main)
    configs, single = _configs(config)
    if isinstance(config, (str, os.PathLike)):  # a config file's values, typed as 'runlab run -c' types them
        configs = typed_file_configs(script.file, script.entrypoint, configs)
    executor = ScriptExecutor(
        script,
        root=root,
        namespace=namespace,
        name=name,
        tags=tags,
        description=description,
        params=params,
        links=links,
        capture=capture,
    )
    executor.via = "run_script"
    runs = [executor.execute(item) for item in configs]
    return runs[0] if single and len(runs) == 1 else runs
