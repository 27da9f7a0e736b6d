"""Observation 8 of issue 8: every bad invocation is one `Error: …` line and a non-zero exit.

Each case runs through the real entry point (click's CliRunner over `cli`, or the installed
`samsok` script in a subprocess) and fails before the embedding model would load, so the
module needs no model. Tests run as root, so "read-only" is a data folder under a regular file
(cannot be created) in-process, and a chmod 555 folder for a subprocess that drops privileges.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from samsok.api.cli import cli

NOBODY = 65534


def assert_one_error_line(result: Result | subprocess.CompletedProcess[str], *needles: str) -> str:
    if isinstance(result, Result):
        code, output = result.exit_code, result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        ), repr(result.exception)
    else:
        code, output = result.returncode, result.stdout + result.stderr
    assert code != 0, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Result]:
    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        runner = CliRunner(
            env={
                "SAMSOK_DATA_DIR": str(tmp_path / "data"),
                # Should a case ever get as far as the model, it must not convert one here.
                "SAMSOK_MODEL_CACHE_DIR": str(tmp_path / "no-models"),
                "SAMSOK_LOG_LEVEL": "WARNING",
                **(env or {}),
            }
        )
        return runner.invoke(cli, list(args))

    return invoke


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


ALL_COMMANDS = [
    ["status"],
    ["search", "legevakt"],
    ["similar", "0123456789abcdef"],
    ["ingest", "{here}", "--region", "orkdal"],
    ["crawl", "--url", "https://www.example.no/", "--region", "orkdal"],
    ["crawl", "--mirror"],
    ["reindex"],
]


def _args(args: list[str], here: Path) -> list[str]:
    return [a.replace("{here}", str(here)) for a in args]


@pytest.mark.parametrize("args", ALL_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_data_dir_that_is_a_file(
    run: Callable[..., Result], a_file: Path, tmp_path: Path, args: list[str]
) -> None:
    assert_one_error_line(run("--data-dir", str(a_file), *_args(args, tmp_path)), "is a file")
    # The same folder from the environment, where click's own check does not reach.
    from_env = run(*_args(args, tmp_path), env={"SAMSOK_DATA_DIR": str(a_file)})
    assert_one_error_line(from_env, str(a_file), "is a file")


@pytest.mark.parametrize("args", ALL_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_data_dir_that_cannot_be_created(
    run: Callable[..., Result], a_file: Path, tmp_path: Path, args: list[str]
) -> None:
    result = run("--data-dir", str(a_file / "data"), *_args(args, tmp_path))
    assert_one_error_line(result, "cannot create the data folder", "is a file")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("file:///etc/passwd", "not an http(s) URL"),
        ("ftp://ftp.example.no/pub/", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("www.example.no/uten-skjema", "not an http(s) URL"),
        ("", "not an http(s) URL"),
        ("http://[::1", "malformed URL"),
        ("http://example.no:99999/", "malformed URL"),
        ("http://exa mple.no/", "malformed URL"),
        ("http://exa\x00mple.no/", "malformed URL"),
    ],
)
def test_crawl_rejects_non_http_and_malformed_urls(
    run: Callable[..., Result], tmp_path: Path, url: str, needle: str
) -> None:
    assert_one_error_line(run("crawl", "--url", url, "--region", "orkdal"), "--url", needle)
    assert not (tmp_path / "data").exists()  # rejected before anything was opened


def test_unknown_source_name(run: Callable[..., Result]) -> None:
    assert_one_error_line(run("crawl", "no-such-source"), "unknown source", "no-such-source")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "cannot read sources file"),  # missing
        ("[[source]\nname = 'x'", "invalid TOML"),
        ("title = 'no sources here'\n", "no [[source]] tables"),
        ("folder", "cannot read sources file"),  # a folder where the file should be
    ],
)
def test_missing_unreadable_or_malformed_sources_file(
    run: Callable[..., Result], tmp_path: Path, content: str | None, needle: str
) -> None:
    sources = tmp_path / "sources.toml"
    if content == "folder":
        sources.mkdir()
    elif content is not None:
        sources.write_text(content)
    result = run("crawl", env={"SAMSOK_SOURCES_FILE": str(sources)})
    assert_one_error_line(result, needle)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ingest", "no/such/path", "--region", "orkdal"], "does not exist"),
        (["search", "x", "--date-from", "2020-13-01"], "--date-from"),
        (["search", "x", "--date-to", "i fjor"], "--date-to"),
        (["search", "x", "--limit", "²"], "--limit"),
        (["search", "x", "--limit", "0"], "limit"),
        (["search", "x", "--offset", "9" * 5000], "--offset"),
        (["similar", "0123456789abcdef", "--limit", "1000"], "--limit"),
        (["crawl", "--url", "https://www.example.no/"], "--region"),
        (["crawl", "--url", "https://www.example.no/", "--region", "oslo"], "--region"),
        (["serve", "--port", "http"], "--port"),
        (["serve", "--port", "99999"], "--port"),
        (["serve", "--workers", "0"], "--workers"),
        (["demo", "--workers", "many"], "--workers"),
        (["demo", "--port", "0"], "--port"),
        (["--log-level", "snakkesalig", "status"], "log level"),
        (["no-such-command"], "No such command"),
        (["extract", "no/such/file.html"], "does not exist"),
        (["ingest", ".", "--region", "orkdal", "--source", "s\udcff"], "not valid UTF-8"),
        (["ingest", ".", "--region", "orkdal", "--source", " "], "--source"),
    ],
)
def test_bad_options_are_one_line(run: Callable[..., Result], args: list[str], needle: str) -> None:
    assert_one_error_line(run(*args), needle)


# -- read-only data folders, for real: a subprocess that is not root --------------------------


# The interpreter lives under /root (mode 700) here, so nobody cannot exec it: the subprocess
# starts as root, imports the CLI, drops to nobody, then runs each command through the real
# entry point (`main`, standalone: exit codes and messages as a user sees them). One process
# for every case keeps the interpreter start-up to once.
AS_NOBODY = f"""
import json, os, sys
from samsok.api.cli import main
os.setgid({NOBODY})
os.setgroups([])
os.setuid({NOBODY})
for number, args in enumerate(json.loads(sys.argv[1])):
    sys.argv = ["samsok", *args]
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    for stream in (sys.stdout, sys.stderr):
        print(f"@@@ {{number}} {{code}}", file=stream, flush=True)
"""


def _run_as_nobody(
    commands: list[list[str]], tmp_path: Path
) -> list[subprocess.CompletedProcess[str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SAMSOK_LOG_LEVEL": "WARNING",
        "SAMSOK_MODEL_CACHE_DIR": str(tmp_path / "no-models"),
    }
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, json.dumps(commands)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    outs = re.split(r"^@@@ \d+ -?\d+\n", done.stdout, flags=re.M)
    errs = re.split(r"^@@@ \d+ -?\d+\n", done.stderr, flags=re.M)
    codes = [int(c) for c in re.findall(r"^@@@ \d+ (-?\d+)$", done.stdout, flags=re.M)]
    assert len(codes) == len(commands), done.stdout + done.stderr
    return [
        subprocess.CompletedProcess(args, code, out, err)
        for args, code, out, err in zip(commands, codes, outs, errs, strict=False)
    ]


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temp folder nobody can reach (pytest's own base folder is 0700 and shared)."""
    folder = Path(tempfile.mkdtemp(prefix="samsok-cli-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_read_only_data_folders_and_unreadable_files(open_tmp: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("dropping privileges needs root")
    tmp_path = open_tmp
    page = tmp_path / "page.html"
    page.write_text("<title>x</title><p>Legevakt i Orkdal.</p>")
    secret = tmp_path / "hemmelig.html"
    secret.write_text("<p>hemmelig</p>")
    secret.chmod(0o600)
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    read_only.chmod(0o555)
    owned = tmp_path / "owned"  # nobody's own folder, but a store.db it may not write
    owned.mkdir()
    (owned / "store.db").write_bytes(b"")
    (owned / "store.db").chmod(0o444)
    os.chown(owned, NOBODY, NOBODY)
    writers = [
        ["ingest", str(page), "--region", "orkdal"],
        ["crawl", "--url", "https://www.example.no/", "--region", "orkdal"],
        ["crawl", "--mirror"],
        ["reindex"],
    ]
    cases: list[tuple[list[str], tuple[str, ...]]] = []
    for args in writers:
        cases.append((["--data-dir", str(read_only), *args], (str(read_only), "not writable")))
        cases.append(
            (
                ["--data-dir", str(read_only / "sub"), *args],
                ("cannot create the data folder", "not writable"),
            )
        )
        cases.append((["--data-dir", str(owned), *args], ("store.db", "not writable")))
    cases.append((["extract", str(secret)], (str(secret), "not readable")))
    results = _run_as_nobody([args for args, _ in cases], tmp_path)
    for (_, needles), result in zip(cases, results, strict=True):
        assert_one_error_line(result, *needles)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SAMSOK_CRAWL_MAX_PAGES", "²"),
        ("SAMSOK_PORT", "99999"),
        ("SAMSOK_FUSION", "magic"),
        ("SAMSOK_CRAWL_TIMEOUT", "-1"),
    ],
)
def test_bad_settings_from_the_environment(
    run: Callable[..., Result], variable: str, value: str
) -> None:
    assert_one_error_line(run("status", env={variable: value}), "invalid setting")
