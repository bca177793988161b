"""Small rules shared by a functional experiment's parts: run folder names and actionable parameter types."""

from __future__ import annotations

import re
import sys
from typing import Any

from ..errors import ValidationError

__all__ = ["DEFAULT_NAME_FORMAT", "SAFE_NAME", "check_name_format", "is_actionable"]

DEFAULT_NAME_FORMAT = "{date}_{time}_{id}"
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]*$")
_NAME_FIELDS = re.compile(r"\{(date|time|id)\}")


def is_actionable(type_: Any) -> bool:
    """Whether a parameter's type is an :class:`~runlab.params.ActionableParameterType` (``CopiedPath`` ...).

    No such type exists before its module is loaded, so an experiment that uses none does not load it.
    """
    module = sys.modules.get("runlab.params._actionable")
    return module is not None and isinstance(type_, type) and issubclass(type_, module.ActionableParameterType)


def check_name_format(name_format: str) -> str:
    """``name_format`` when it is a valid run folder pattern.

    Raises:
        ValidationError: no ``{id}``, or characters a folder name should not have.

    Example:
        >>> check_name_format("{date}_{id}")
        '{date}_{id}'
    """
    if not isinstance(name_format, str) or "{id}" not in name_format:
        raise ValidationError(
            f"Invalid name_format {name_format!r}: it must contain '{{id}}' (and may use '{{date}}' and "
            "'{time}'), e.g. '{date}_{time}_{id}'."
        )
    rest = _NAME_FIELDS.sub("", name_format)
    if not SAFE_NAME.match(rest):
        raise ValidationError(
            f"Invalid name_format {name_format!r}: besides {{date}}, {{time}} and {{id}} use only letters, digits, "
            "'_', '-' and '.'."
        )
    return name_format
