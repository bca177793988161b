"""Parameters and configs: discovery, typing, overrides, config files and sweeps.

A parameter is an UPPERCASE global of an experiment module (or a special one such as
``__DEBUG__``). Values given as text are converted to the parameter's annotated type with
pydantic; config files (YAML, TOML, JSON, Python) set many at once and may sweep over values::

    >>> from runlab.params import Param, parse_overrides, load_config, logspace, expand
    >>> params = {"LR": Param("LR", float, 0.1)}
    >>> parse_overrides(["--LR=0.01"], params)
    {'LR': 0.01}
    >>> [c["LR"] for c in expand({"LR": logspace(-2, -1, 2)})]
    [0.01, 0.1]

pydantic and PyYAML are imported on first use, and so is each submodule (a run that reads no
config file loads none of the config, sweep and sampling code), so importing this package is cheap.
See ``docs/parameters.md`` for the whole picture.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from ._actionable import ActionableParameterType, CopiedPath, HasFolder
    from ._coerce import coerce, format_value, parse_text, type_name
    from ._config import Config, ConfigGenerator, load_python_config
    from ._config_loader import ConfigLoader
    from ._errors import ConfigError, ParameterError, did_you_mean
    from ._files import (
        CONFIG_SUFFIXES,
        ConfigSpec,
        interpolate_env,
        iter_configs,
        load_config,
        load_dir,
        load_spec,
        read_file,
    )
    from ._ids import canonical, canonical_json, config_id
    from ._inherit import INHERIT, Inherit, InheritError, is_inherit
    from ._overrides import format_override, get_dotted, parse_overrides, set_dotted, split_override
    from ._param import (
        SPECIAL_PARAMS,
        Param,
        declare_special_param,
        discover_params,
        is_param_name,
        is_usable,
        read_descriptions,
        scan_source,
    )
    from ._sample import Distribution, SampleMode, loguniform, parse_axis, randint, sample, sweep_argv, uniform
    from ._sweep import (
        MAX_SWEEP_RUNS,
        Sweep,
        check_sweep_size,
        choice,
        expand,
        expand_model,
        grid,
        linspace,
        logspace,
        parse_sweep,
        range_,
        zipped,
    )

_LAZY = {  # each submodule loads on first use: a run that reads no config file needs none of the
    # config, sweep and sampling modules
    "ActionableParameterType": "._actionable",
    "CopiedPath": "._actionable",
    "HasFolder": "._actionable",
    "coerce": "._coerce",
    "format_value": "._coerce",
    "parse_text": "._coerce",
    "type_name": "._coerce",
    "Config": "._config",
    "ConfigGenerator": "._config",
    "load_python_config": "._config",
    "ConfigLoader": "._config_loader",
    "ConfigError": "._errors",
    "ParameterError": "._errors",
    "did_you_mean": "._errors",
    "CONFIG_SUFFIXES": "._files",
    "ConfigSpec": "._files",
    "interpolate_env": "._files",
    "iter_configs": "._files",
    "load_config": "._files",
    "load_dir": "._files",
    "load_spec": "._files",
    "read_file": "._files",
    "canonical": "._ids",
    "canonical_json": "._ids",
    "config_id": "._ids",
    "INHERIT": "._inherit",
    "Inherit": "._inherit",
    "InheritError": "._inherit",
    "is_inherit": "._inherit",
    "format_override": "._overrides",
    "get_dotted": "._overrides",
    "parse_overrides": "._overrides",
    "set_dotted": "._overrides",
    "split_override": "._overrides",
    "SPECIAL_PARAMS": "._param",
    "Param": "._param",
    "declare_special_param": "._param",
    "discover_params": "._param",
    "is_param_name": "._param",
    "is_usable": "._param",
    "read_descriptions": "._param",
    "scan_source": "._param",
    "Distribution": "._sample",
    "SampleMode": "._sample",
    "loguniform": "._sample",
    "parse_axis": "._sample",
    "randint": "._sample",
    "sample": "._sample",
    "sweep_argv": "._sample",
    "uniform": "._sample",
    "MAX_SWEEP_RUNS": "._sweep",
    "check_sweep_size": "._sweep",
    "Sweep": "._sweep",
    "choice": "._sweep",
    "expand": "._sweep",
    "expand_model": "._sweep",
    "grid": "._sweep",
    "linspace": "._sweep",
    "logspace": "._sweep",
    "parse_sweep": "._sweep",
    "range_": "._sweep",
    "zipped": "._sweep",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "MAX_SWEEP_RUNS",
    "check_sweep_size",
    "uniform",
    "sweep_argv",
    "sample",
    "randint",
    "parse_axis",
    "loguniform",
    "SampleMode",
    "Distribution",
    "CONFIG_SUFFIXES",
    "INHERIT",
    "Inherit",
    "InheritError",
    "is_inherit",
    "SPECIAL_PARAMS",
    "ActionableParameterType",
    "Config",
    "ConfigError",
    "ConfigGenerator",
    "ConfigLoader",
    "ConfigSpec",
    "CopiedPath",
    "HasFolder",
    "Param",
    "ParameterError",
    "Sweep",
    "canonical",
    "canonical_json",
    "choice",
    "coerce",
    "config_id",
    "declare_special_param",
    "did_you_mean",
    "discover_params",
    "expand",
    "expand_model",
    "format_override",
    "format_value",
    "get_dotted",
    "grid",
    "interpolate_env",
    "is_param_name",
    "is_usable",
    "linspace",
    "iter_configs",
    "load_config",
    "load_dir",
    "load_python_config",
    "load_spec",
    "logspace",
    "parse_overrides",
    "parse_sweep",
    "parse_text",
    "range_",
    "read_descriptions",
    "read_file",
    "scan_source",
    "set_dotted",
    "split_override",
    "type_name",
    "zipped",
]
