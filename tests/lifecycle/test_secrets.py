"""Secrets x where they appear (environment variable name, value, argv): never written to the store.

The end-to-end tests start a real process with the secrets in its environment and on its
command line, then search every file of the run folder for each secret string.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import runlab
from runlab.lifecycle._secrets import (
    REDACTED,
    SecretRules,
    is_secret_name,
    load_rules,
    redact_argv,
    redact_environ,
    redact_text,
)

GH = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"

# (variable, value, the secret that must not be recorded, what is recorded instead)
ENV_CASES: list[tuple[str, str, str, str]] = [
    ("DATABASE_URL", "postgres://u:PASSDB1@h/db", "PASSDB1", "postgres://u:<redacted>@h/db"),
    ("REDIS_URL", "redis://:REDISPW2@cache:6379/0", "REDISPW2", "redis://:<redacted>@cache:6379/0"),
    ("SENTRY_DSN", "https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/5", "0123456789abcdef0123", REDACTED),
    ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXXSLACK3", "XXXXSLACK3", REDACTED),
    (
        "AZURE_STORAGE_CONNECTION_STRING",
        "DefaultEndpointsProtocol=https;AccountName=acc;AccountKey=AZUREKEY4==;EndpointSuffix=core.windows.net",
        "AZUREKEY4",
        REDACTED,
    ),
    ("MYSQL_PWD", "MYSQLPW5", "MYSQLPW5", REDACTED),
    ("MY_PASS", "MYPASS6", "MYPASS6", REDACTED),
    ("GITHUB_TOKEN", GH, GH, REDACTED),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIAWSSECRET7", "wJalrXUtnFEMIAWSSECRET7", REDACTED),
    ("HTTP_AUTH", "basic BASICAUTH8", "BASICAUTH8", REDACTED),
    ("SOME_SETTING", f"prefix {GH} suffix", GH, f"prefix {REDACTED} suffix"),  # by value only
    ("SERVICE", "sk-proj-" + "x" * 40, "x" * 40, REDACTED),
    ("ID_TOKENISH", JWT, JWT, REDACTED),
    ("CONN", "Server=db;User Id=app;Password=CONNPW9;", "CONNPW9", "Server=db;User Id=app;Password=<redacted>;"),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", REDACTED),
    ("UPSTREAM", "https://AKIAIOSFODNN7EXAMPLE.example.com", "AKIAIOSFODNN7EXAMPLE", f"https://{REDACTED}.example.com"),
]
PLAIN: dict[str, str] = {
    "PWD": "/home/me/project",  # the shell's current directory, not a password
    "OLDPWD": "/home/me",
    "AUTHOR": "Ada",
    "PLAIN_SETTING": "ok",
    "SITE_URL": "https://example.com/path?q=1",
    "GIT_URL": "https://git@github.com/org/repo",  # a user name, not a key
}
ARGV_CASES: list[tuple[list[str], list[str], str]] = [
    (["--api-key=sk-ARGV1abcdefghijklmnopqrstu"], ["--api-key=<redacted>"], "ARGV1"),
    (["--password", "ARGVPW2", "--lr", "0.1"], ["--password", REDACTED, "--lr", "0.1"], "ARGVPW2"),
    (["--db", "postgres://u:ARGVPW3@h/db"], ["--db", "postgres://u:<redacted>@h/db"], "ARGVPW3"),
    (["db.password=ARGVPW4"], ["db.password=<redacted>"], "ARGVPW4"),
    (["--TOKEN=ARGV5"], ["--TOKEN=<redacted>"], "ARGV5"),
    (["-secret-key", "ARGV6"], ["-secret-key", REDACTED], "ARGV6"),
    ([f"--header=Bearer {JWT}"], [f"--header=Bearer {REDACTED}"], JWT),
]


@pytest.mark.parametrize(("name", "value", "secret", "recorded"), ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_environment_secrets_are_redacted_and_their_names_kept(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, secret: str, recorded: str
) -> None:
    from runlab.lifecycle._capture import capture_environment

    monkeypatch.setenv(name, value)
    env = capture_environment()
    assert env["variables"][name] == recorded
    assert name in env["variables_redacted"]
    assert secret not in str(env)


@pytest.mark.parametrize("name", list(PLAIN))
def test_ordinary_variables_are_recorded_as_they_are(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from runlab.lifecycle._capture import capture_environment

    monkeypatch.setenv(name, PLAIN[name])
    env = capture_environment()
    assert env["variables"][name] == PLAIN[name] and name not in env["variables_redacted"]


@pytest.mark.parametrize(("argv", "recorded", "secret"), ARGV_CASES, ids=[c[2][:8] for c in ARGV_CASES])
def test_argv_secrets_are_redacted(argv: list[str], recorded: list[str], secret: str) -> None:
    assert redact_argv(["train.py", *argv], SecretRules()) == ["train.py", *recorded]


def test_a_real_run_writes_no_secret_anywhere_in_its_folder(tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        "import runlab\nwith runlab.start_run(root='runs') as run:\n    print(run.id)\n", encoding="utf-8"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **{n: v for n, v, _, _ in ENV_CASES}, **PLAIN}
    if "PYTHONPATH" in os.environ:  # the runlab under test
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    argv = [arg for case in ARGV_CASES for arg in case[0]]
    result = subprocess.run(
        [sys.executable, str(script), *argv], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    record = runlab.load(result.stdout.strip(), root=tmp_path / "runs")
    recorded = record.metadata["env"]
    for name, _, _, shown in ENV_CASES:
        assert recorded["variables"][name] == shown
    assert recorded["argv"][1:] == [arg for case in ARGV_CASES for arg in case[1]]
    everything = b"".join(p.read_bytes() for p in record.path.rglob("*") if p.is_file())
    for secret in [c[2] for c in ENV_CASES] + [c[2] for c in ARGV_CASES]:
        assert secret.encode() not in everything, secret
    assert b"/home/me/project" in everything  # PWD is not a password


def test_tool_runlab_secrets_redacts_and_keeps_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runlab.lifecycle._capture import capture_environment

    (tmp_path / "pyproject.toml").write_text(
        '[tool.runlab.secrets]\nredact = ["internal_*"]\nkeep = ["SESSION_LABEL", "DEPLOY_*"]\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERNAL_ID", "corp-123")
    monkeypatch.setenv("SESSION_LABEL", "nightly")
    monkeypatch.setenv("DEPLOY_TOKEN_HINT", "see-vault")
    monkeypatch.setenv("DB_PASSWORD", "still-hidden")
    env = capture_environment()
    assert env["variables"]["INTERNAL_ID"] == REDACTED
    assert env["variables"]["SESSION_LABEL"] == "nightly" and env["variables"]["DEPLOY_TOKEN_HINT"] == "see-vault"
    assert env["variables"]["DB_PASSWORD"] == REDACTED
    assert redact_argv(["x", "--internal-id", "corp-9"], load_rules(tmp_path)) == ["x", "--internal-id", REDACTED]


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ('redact = "X"', "is not a list"),
        ("keep = [1]", "is not a list"),
        ('allow = ["X"]', "Unknown setting 'allow'"),
    ],
)
def test_bad_secrets_settings_fail_closed(tmp_path: Path, section: str, words: str) -> None:
    """A bad setting is a clear error; in a run it leaves the whole environment unrecorded."""
    (tmp_path / "pyproject.toml").write_text(f"[tool.runlab.secrets]\n{section}\n", encoding="utf-8")
    with pytest.raises(runlab.UsageError, match=words):
        load_rules(tmp_path)
    code = "import runlab\nwith runlab.start_run(root='runs') as run:\n    print(run.id)\n"
    env = {**os.environ, "DB_PASSWORD": "pw-never"}
    env.pop("RUNLAB_ROOT", None)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    meta = runlab.load(result.stdout.strip(), root=tmp_path / "runs").metadata
    assert meta["env"] is None and words in meta["capture_error"]


def test_name_rule_and_text_rule() -> None:
    assert all(is_secret_name(n) for n in ("api_key", "X-Auth", "DB_PASS", "SIGNATURE_SALT", "my.secret"))
    assert not any(is_secret_name(n) for n in ("HOME", "PATH", "AUTHOR", "KEYBOARD_LAYOUT", "MONKEY", "OLDPWD"))
    assert is_secret_name("--pwd") and redact_environ({"PWD": "/home/me"}, SecretRules())[0] == {"PWD": "/home/me"}
    assert redact_text("no secrets here: https://example.com") == "no secrets here: https://example.com"


_SECRET_TEXT = st.text(alphabet="0123456789!#$%^*()[]{}~+,;", min_size=6, max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    scheme=st.sampled_from(["postgres", "mysql+pymysql", "redis", "https", "amqp"]),
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=8),
    password=_SECRET_TEXT,
    rest=st.sampled_from(["h/db", "host:5432/x?ssl=1", "cache"]),
    before=st.sampled_from(["", "url=", "primary "]),
)
def test_a_url_password_is_never_recorded(scheme: str, user: str, password: str, rest: str, before: str) -> None:
    url = f"{before}{scheme}://{user}:{password}@{rest}"
    rules = SecretRules()
    assert password not in redact_text(url)
    variables, redacted = redact_environ({"SOME_URL": url}, rules)
    assert password not in variables["SOME_URL"] and redacted == ["SOME_URL"]
    assert all(password not in arg for arg in redact_argv(["x", url, f"--db={url}"], rules))


@settings(max_examples=200, deadline=None)
@given(
    word=st.sampled_from(["password", "token", "secret", "api-key", "api_key", "pass", "pwd", "auth", "dsn"]),
    prefix=st.sampled_from(["", "db-", "my_", "x."]),
    dashes=st.sampled_from(["--", "-", ""]),
    value=_SECRET_TEXT,
    separate=st.booleans(),
)
def test_a_secret_option_value_is_never_recorded(
    word: str, prefix: str, dashes: str, value: str, separate: bool
) -> None:
    option = f"{dashes}{prefix}{word}"
    argv = ["x", option, value] if separate and dashes else ["x", f"{option}={value}"]
    assert all(value not in arg for arg in redact_argv(argv, SecretRules()))
