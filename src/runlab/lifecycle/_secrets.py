"""Secrets never reach ``run.json``: redaction of environment variables and command lines.

A run records its environment variables and ``sys.argv``. Before they are written:

* a variable whose **name** looks like a secret keeps its name with the value
  ``<redacted>``. A name is secret-looking when it contains ``PASSWORD``, ``PASSWD``,
  ``SECRET``, ``TOKEN``, ``CREDENTIAL``, ``APIKEY``, ``API_KEY``, ``PRIVATE_KEY``,
  ``WEBHOOK``, ``CONNECTION_STRING``, ``COOKIE`` or ``SIGNATURE``, or when one of its
  ``_``/``-``/``.``-separated words is ``KEY``, ``PASS``, ``PWD`` (the environment
  variable ``PWD``, the shell's current directory, is recorded), ``AUTH``, ``DSN``,
  ``SESSION``, ``CREDENTIALS`` or ``PASSPHRASE``;
* in every other **value**, secrets are replaced where they appear: the password of a
  URL (``postgres://u:<redacted>@h/db``), a key-like user name in a URL (Sentry DSNs),
  ``Password=``/``AccountKey=``-style fields of connection strings, and well-known token
  formats (GitHub, GitLab, Slack, Stripe, OpenAI/Anthropic ``sk-``, Hugging Face, npm,
  AWS access key IDs, Google API keys, JSON Web Tokens, private key blocks);
* in ``argv``, an option whose name is secret-looking loses its value
  (``--api-key=<redacted>``, ``--password <redacted>``, ``db.password=<redacted>``), and
  every argument gets the value rules above.

``[tool.runlab.secrets]`` in the nearest ``pyproject.toml`` adjusts the name rule::

    [tool.runlab.secrets]
    redact = ["INTERNAL_*", "MY_COMPANY_ID"]   # also redact these names (glob, any case)
    keep = ["AUTHOR_NAME", "SESSION_LABEL"]    # record these as they are

``keep`` wins over both rules (the value is recorded verbatim). Names compare in any
case with ``-`` matching ``_``, so the patterns apply to ``argv`` options too
(``--internal-id``). Redacted variable names are listed in ``env.variables_redacted``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["REDACTED", "SecretRules", "is_secret_name", "load_rules", "redact_argv", "redact_environ", "redact_text"]

REDACTED = "<redacted>"

_NAME_SUBSTRINGS = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|APIKEY|API_KEY|API-KEY|PRIVATE_KEY|PRIVATEKEY|WEBHOOK|"
    r"CONNECTION_STRING|CONNECTIONSTRING|COOKIE|SIGNATURE",
    re.IGNORECASE,
)
_NAME_WORDS = frozenset({"KEY", "PASS", "PWD", "AUTH", "DSN", "SESSION", "CREDENTIALS", "PASSPHRASE"})
_WORD_SPLIT = re.compile(r"[_\-.]+")
_SHELL_VARIABLES = frozenset({"PWD"})  # the shell's current directory, not a password

_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^:@/\s]*)(?::(?P<pw>[^@/\s]*))?@")
_KEYLIKE_USER = re.compile(r"^[A-Za-z0-9_\-]{16,}$")
_FIELD = re.compile(
    r"(?P<key>(?:password|pwd|passwd|accountkey|sharedaccesskey|secret|token|apikey|api_key)\s*=\s*)"
    r"(?P<value>[^;&\s]+)",
    re.IGNORECASE,
)
_TOKENS = re.compile(
    "|".join(
        [
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            r"\bgh[pousr]_[A-Za-z0-9]{30,}",
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",
            r"\bglpat-[A-Za-z0-9_\-]{20,}",
            r"\bxox[abposre]-[A-Za-z0-9\-]{10,}",
            r"hooks\.slack\.com/services/[A-Za-z0-9/]+",
            r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}",
            r"\bsk-[A-Za-z0-9_\-]{20,}",
            r"\bhf_[A-Za-z0-9]{30,}",
            r"\bnpm_[A-Za-z0-9]{30,}",
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
            r"\bAIza[0-9A-Za-z_\-]{35}",
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
        ]
    )
)


class SecretRules:
    """The name rule plus the ``[tool.runlab.secrets]`` adjustments.

    Example:
        >>> rules = SecretRules(redact=["INTERNAL_*"], keep=["AUTH_MODE"])
        >>> [rules.secret(n) for n in ("DB_PASSWORD", "internal_id", "AUTH_MODE", "HOME")]
        [True, True, False, False]
    """

    def __init__(self, redact: Iterable[str] = (), keep: Iterable[str] = ()) -> None:
        self.redact = [_normal(p) for p in redact]
        self.keep = [_normal(p) for p in keep]

    def kept(self, name: str) -> bool:
        """Whether ``name`` is recorded verbatim (``keep``)."""
        normal = _normal(name)
        return any(fnmatch.fnmatchcase(normal, p) for p in self.keep)

    def secret(self, name: str) -> bool:
        """Whether the value of ``name`` is never recorded."""
        if self.kept(name):
            return False
        normal = _normal(name)
        return is_secret_name(normal) or any(fnmatch.fnmatchcase(normal, p) for p in self.redact)


def _normal(name: str) -> str:
    """Patterns and names compare in upper case with ``-`` as ``_`` (``--internal-id`` ~ ``INTERNAL_ID``)."""
    return name.upper().replace("-", "_")


def is_secret_name(name: str) -> bool:
    """The built-in name rule (see the module docstring).

    Example:
        >>> [is_secret_name(n) for n in ("MYSQL_PWD", "--pwd", "SENTRY_DSN", "AUTHOR", "api-key")]
        [True, True, True, False, True]
    """
    if _NAME_SUBSTRINGS.search(name):
        return True
    return any(w.upper() in _NAME_WORDS for w in _WORD_SPLIT.split(name))


def _userinfo(match: re.Match[str]) -> str:
    scheme, user, password = match.group("scheme"), match.group("user"), match.group("pw")
    if password:
        return f"{scheme}{user}:{REDACTED}@"
    if _KEYLIKE_USER.match(user):
        return f"{scheme}{REDACTED}@"
    return match.group(0)


def redact_text(text: str) -> str:
    """``text`` with URL passwords, connection-string secrets and known token formats replaced.

    Example:
        >>> redact_text("postgres://app:s3cret@db.local:5432/main")
        'postgres://app:<redacted>@db.local:5432/main'
        >>> redact_text("use ghp_" + "a" * 36)
        'use <redacted>'
    """
    if "://" in text:
        text = _URL_USERINFO.sub(_userinfo, text)
    if "=" in text:
        text = _FIELD.sub(lambda m: m.group("key") + REDACTED, text)
    return _TOKENS.sub(REDACTED, text)


_last_environ: list[tuple[Any, tuple[dict[str, str], list[str]]]] = []  # the last answer, by its input


def redact_environ(environ: Mapping[str, str], rules: SecretRules) -> tuple[dict[str, str], list[str]]:
    """Variables to record (secrets as ``<redacted>``) and the sorted names that were redacted.

    The answer for the same variables and rules is remembered (every run of a sweep in one
    process records the same environment; matching each value against the token patterns
    again cost half a millisecond a run).

    Example:
        >>> redact_environ({"HOME": "/home/a", "DB_PASSWORD": "x"}, SecretRules())
        ({'DB_PASSWORD': '<redacted>', 'HOME': '/home/a'}, ['DB_PASSWORD'])
    """
    key = (tuple(rules.redact), tuple(rules.keep), tuple(environ.items()))
    last = _last_environ[-1] if _last_environ else None  # one read: another thread may replace it
    if last is not None and last[0] == key:
        answer = last[1]
    else:
        answer = _redact_environ(environ, rules)
        _last_environ[:] = [(key, answer)]
    return dict(answer[0]), list(answer[1])


def _redact_environ(environ: Mapping[str, str], rules: SecretRules) -> tuple[dict[str, str], list[str]]:
    variables: dict[str, str] = {}
    redacted: list[str] = []
    for name, value in environ.items():
        if name in _SHELL_VARIABLES or rules.kept(name):
            variables[name] = value
            continue
        clean = REDACTED if rules.secret(name) else redact_text(value)
        if clean != value:
            redacted.append(name)
        variables[name] = clean
    return dict(sorted(variables.items())), sorted(redacted)


def redact_argv(argv: Sequence[str], rules: SecretRules) -> list[str]:
    """``argv`` with the values of secret-looking options replaced.

    Example:
        >>> redact_argv(["train.py", "--api-key=sk-1", "--password", "x", "--lr", "0.1"], SecretRules())
        ['train.py', '--api-key=<redacted>', '--password', '<redacted>', '--lr', '0.1']
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next and not arg.startswith("--"):
            out.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        name, eq, _ = arg.partition("=")
        bare = name.lstrip("-")
        if eq and bare and rules.secret(bare):
            out.append(f"{name}={REDACTED}")
        elif not eq and arg.startswith("-") and bare and rules.secret(bare):
            out.append(arg)
            hide_next = True
        else:
            out.append(redact_text(arg))
    return out


_CACHE: dict[tuple[str, int], SecretRules] = {}


def load_rules(start: Path | None = None) -> SecretRules:
    """The rules with ``[tool.runlab.secrets]`` of the nearest ``pyproject.toml`` (cached per file version).

    Raises:
        UsageError: ``redact`` or ``keep`` is not a list of strings.
    """
    from ..store._root import find_pyproject, read_toml

    pyproject = find_pyproject(start)
    if pyproject is None:
        return SecretRules()
    try:
        key = (str(pyproject), pyproject.stat().st_mtime_ns)
        if key in _CACHE:
            return _CACHE[key]
        text = pyproject.read_text(encoding="utf-8")
    except OSError:
        return SecretRules()
    rules = SecretRules()
    if "secrets" in text and "runlab" in text:  # cheap check before loading tomllib
        section = read_toml(pyproject, text).get("tool", {}).get("runlab", {}).get("secrets", {})
        rules = SecretRules(**_lists(section, pyproject))
    _CACHE[key] = rules
    return rules


def _lists(section: Any, pyproject: Path) -> dict[str, list[str]]:
    if not isinstance(section, dict):
        raise UsageError(
            f"Invalid [tool.runlab.secrets] in {pyproject}: expected a table with 'redact' and 'keep' lists."
        )
    out: dict[str, list[str]] = {}
    for key, value in section.items():
        if key not in ("redact", "keep"):
            raise UsageError(
                f"Unknown setting {key!r} in [tool.runlab.secrets] of {pyproject}; valid settings: redact, keep."
            )
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise UsageError(
                f"Invalid value for '{key}' in [tool.runlab.secrets] of {pyproject}: {value!r} is not a list of "
                'names or patterns. Write, for example, redact = ["INTERNAL_*"].'
            )
        out[key] = value
    return out
