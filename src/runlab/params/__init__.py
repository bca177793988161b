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

pydantic and PyYAML are imported on first use, so importing this package is cheap.
See ``docs/parameters.md`` for the whole picture.
"""

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
from ._sweep import Sweep, choice, expand, expand_model, grid, linspace, logspace, parse_sweep, range_, zipped

__all__ = [
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
