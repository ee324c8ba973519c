"""Bad input never crashes, hangs or loses other results: the catalog in fixtures/bad_input/.

Each committed file has its expected outcome in fixtures/bad_input/EXPECTED.yaml. Cases too large
or too odd to commit (50 MB, 100,000 levels of nesting, symlink loops, unreadable files, named
pipes) are generated here in a temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import FIXTURES

from cfnaudit.api import Config, Report, audit
from cfnaudit.decode import Limits

BAD_INPUT = FIXTURES / "bad_input"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load(
    (BAD_INPUT / "EXPECTED.yaml").read_text(encoding="utf-8"))
GOOD = ("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        "    Properties:\n      TopicName: still-scanned\n")
CLI_TIMEOUT = 60  # seconds; any case that takes longer is a hang


def _errors(report: Report) -> list[tuple[str, int, int, str]]:
    return sorted((f.code, f.location.line, f.location.column, f.message)
                  for f in report.findings if f.is_error)


def _assert_expected(report: Report, expected: dict[str, Any]) -> None:
    (outcome,) = report.files
    assert outcome.status == expected["status"]
    found = _errors(report)
    wanted = sorted(expected["errors"], key=lambda e: (e["code"], e["line"], e["column"]))
    assert [(c, line, col) for c, line, col, _ in found] == [
        (e["code"], e["line"], e["column"]) for e in wanted]
    for (_, _, _, message), entry in zip(found, wanted, strict=True):
        assert entry["message"] in message
    # Ordinary findings a case must give instead of a crash (others may come with them).
    ordinary = [(f.code, f.location.line, f.location.column, f.message)
                for f in report.findings if not f.is_error]
    for entry in expected.get("findings", []):
        assert any((code, line, column) == (entry["code"], entry["line"], entry["column"])
                   and entry["message"] in message
                   for code, line, column, message in ordinary), entry


def test_every_catalog_file_has_an_expected_outcome() -> None:
    files = {p.name for p in BAD_INPUT.iterdir() if p.name != "EXPECTED.yaml"}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_catalog_file_gives_its_expected_outcome(name: str) -> None:
    report = audit([BAD_INPUT / name], Config())
    _assert_expected(report, EXPECTED[name])
    assert not [f for f in report.findings if f.category == "internal-error"]


def _cli(*args: str, timeout: float = CLI_TIMEOUT, **kwargs: Any
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cfnaudit", "scan", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
                          **kwargs)


def _json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _files_with(document: dict[str, Any], code: str) -> set[str]:
    return {Path(f["file"]).name for f in document["findings"] if f["code"] == code}


def test_whole_catalog_in_one_run_exits_two_and_still_reports_the_good_file(
        tmp_path: Path) -> None:
    shutil.copytree(BAD_INPUT, tmp_path / "bad")
    (tmp_path / "bad" / "good.yaml").write_text(GOOD)
    result = _cli(str(tmp_path / "bad"), "--format", "json")
    assert result.returncode == 2, result.stderr
    document = _json(result)
    expected_errors = {name for name, e in EXPECTED.items() if e["errors"]}
    assert _files_with(document, "CFA001") | _files_with(document, "CFA002") == expected_errors
    assert "good.yaml" not in expected_errors
    assert document["summary"]["scanned"] == 1 + sum(
        e["status"] == "scanned" for e in EXPECTED.values())


# ------------------------------------------------------------------ generated at test time


@pytest.fixture
def good_and(tmp_path: Path) -> Iterator[Path]:
    """A folder holding one good template, for cases that add one bad thing next to it."""
    (tmp_path / "good.yaml").write_text(GOOD)
    yield tmp_path


def _one_error(report: Report, name: str) -> tuple[str, int, int, str]:
    errors = [(f.code, f.location.line, f.location.column, f.message)
              for f in report.findings if f.is_error and Path(f.file).name == name]
    assert len(errors) == 1, errors
    return errors[0]


# The child reports its own high-water mark (VmHWM is per address space, so it is not inflated
# by the pages a forked pytest process shares with it before exec).
_REPORT_PEAK = """
import atexit, re, sys
def report():
    status = open("/proc/self/status").read()
    sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+)", status).group(1) + "\\n")
atexit.register(report)
from cfnaudit.cli import main
main(sys.argv[1:])
"""


def _peak_rss_mb(args: list[str]) -> tuple[int, float]:
    """(exit code, peak resident memory in MB) of a `cfnaudit` process."""
    result = subprocess.run([sys.executable, "-c", _REPORT_PEAK, *args], capture_output=True,
                            text=True, timeout=CLI_TIMEOUT, check=False)
    peak = [line for line in result.stderr.splitlines() if line.startswith("VmHWM ")]
    assert peak, result.stderr
    return result.returncode, int(peak[-1].split()[1]) / 1024


def test_a_50_mb_file_is_refused_before_it_is_read(good_and: Path) -> None:
    huge = good_and / "huge.yaml"
    with huge.open("w") as handle:
        handle.write(GOOD + "Metadata:\n  Padding: \"")
        handle.write("x" * (50 * 1024 * 1024))
        handle.write("\"\n")
    code, line, column, message = _one_error(audit([good_and], Config()), "huge.yaml")
    assert (code, line, column) == ("CFA001", 1, 1)
    assert "over the 5242880-byte limit" in message
    exit_code, peak = _peak_rss_mb(["scan", str(huge)])
    assert exit_code == 2
    assert peak < 120, f"peak RSS {peak:.0f} MB: the 50 MB file was read"


def test_the_size_limit_is_configurable(good_and: Path) -> None:
    report = audit([good_and / "good.yaml"], Config(limits=Limits(max_bytes=20)))
    assert "over the 20-byte limit" in _one_error(report, "good.yaml")[3]
    result = _cli(str(good_and / "good.yaml"), "--max-bytes", "20", "--format", "json")
    assert result.returncode == 2
    assert _files_with(_json(result), "CFA001") == {"good.yaml"}


@pytest.mark.parametrize(("name", "text", "line"), [
    ("flow.yaml", "Resources: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),
    ("deep.json", '{"Resources": ' + "[" * 100_000 + "]" * 100_000 + "}\n", 1),
    ("block.yaml", "Resources:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 1000)), 101),
])
def test_nesting_100_000_levels_deep_is_a_located_error(good_and: Path, name: str, text: str,
                                                        line: int) -> None:
    (good_and / name).write_text(text)
    report = audit([good_and], Config())
    code, found_line, _, message = _one_error(report, name)
    assert code == "CFA001" and found_line == line
    assert "nesting deeper than" in message
    assert {o.status for o in report.files if o.file.endswith("good.yaml")} == {"scanned"}


def test_the_depth_limit_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "t.yaml").write_text(GOOD)  # Resources > Topic > Properties: depth 3
    report = audit([tmp_path], Config(limits=Limits(max_depth=2)))
    assert "nesting deeper than 2 levels" in _one_error(report, "t.yaml")[3]
    result = _cli(str(tmp_path), "--max-depth", "4", "--format", "json")
    assert _files_with(_json(result), "CFA001") == set()


def test_a_directory_symlink_loop_is_not_followed(good_and: Path) -> None:
    (good_and / "sub").mkdir()
    (good_and / "sub" / "up").symlink_to("..", target_is_directory=True)
    (good_and / "self").symlink_to(".", target_is_directory=True)
    result = _cli(str(good_and), "--format", "json")
    assert result.returncode in (0, 1)
    assert {Path(f["file"]).name for f in _json(result)["findings"]} <= {"good.yaml"}
    report = audit([good_and], Config())
    assert [Path(o.file).name for o in report.files] == ["good.yaml"]


def test_a_file_symlink_loop_is_an_error_for_that_file_only(good_and: Path) -> None:
    (good_and / "a.yaml").symlink_to(good_and / "b.yaml")
    (good_and / "b.yaml").symlink_to(good_and / "a.yaml")
    result = _cli(str(good_and), "--format", "json")
    assert result.returncode == 2
    document = _json(result)
    assert _files_with(document, "CFA001") == {"a.yaml", "b.yaml"}


def test_a_named_pipe_does_not_hang_the_scan(good_and: Path) -> None:
    os.mkfifo(good_and / "pipe.yaml")
    try:
        result = _cli(str(good_and), "--format", "json", timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the scan hung on a named pipe")
    assert result.returncode == 2
    assert _files_with(_json(result), "CFA001") == {"pipe.yaml"}


def test_an_unreadable_file_is_a_located_error_and_others_are_scanned() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cfnaudit-unreadable-"))
    try:
        (folder / "good.yaml").write_text(GOOD)
        (folder / "good.yaml").chmod(0o644)
        secret = folder / "secret.yaml"
        secret.write_text(GOOD)
        secret.chmod(0)
        prefix: list[str] = []
        if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: cannot make a file unreadable")
            prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "cfnaudit", "scan", str(folder), "--format", "json"],
            capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
        document = _json(result)
        assert result.returncode == 2
        errors = [f for f in document["findings"] if f["code"] == "CFA001"]
        assert [(Path(f["file"]).name, f["line"], f["column"]) for f in errors] == [
            ("secret.yaml", 1, 1)]
        assert "cannot read file" in errors[0]["message"]
        assert document["summary"]["scanned"] == 1
    finally:
        (folder / "secret.yaml").chmod(stat.S_IRUSR | stat.S_IWUSR)
        shutil.rmtree(folder)


def test_a_long_chain_of_conditions_does_not_exhaust_the_stack(tmp_path: Path) -> None:
    count = 1500
    lines = ["Parameters:\n  P: {Type: String, Default: x}\n",
             "Conditions:\n  C0: !Equals [!Ref P, x]\n"]
    lines += [f"  C{i}: !Not [!Condition C{i - 1}]\n" for i in range(1, count)]
    lines.append(f"Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Condition: C{count - 1}\n"
                 f"    Properties:\n      BucketName: !If [C{count - 1}, a, !Ref AWS::NoValue]\n")
    (tmp_path / "chain.yaml").write_text("".join(lines))
    report = audit([tmp_path], Config())
    assert [f.message for f in report.findings if f.is_error] == []
