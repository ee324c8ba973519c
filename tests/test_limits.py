"""Nothing escapes a file, nothing runs unbounded: a rule over its time budget is stopped and
reported (CFA006), an unexpected error in one file's processing stays that file's finding, and
text no output can encode never aborts the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers import FIXTURES, run

from cfnaudit import api
from cfnaudit.api import Config, Report, audit
from cfnaudit.config import ConfigError, load
from cfnaudit.registry import load_rules

UNROTATED = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n"
SLOW_RULES = """\
import time
from cfnaudit.rule import Severity, Violation, rule

@rule(code='USR001', name='loops-forever', severity=Severity.ERROR, category='outputs')
def loops_forever(ctx):
    '''Never returns, and swallows every ordinary exception.'''
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass
    yield

@rule(code='USR002', name='slightly-slow', severity=Severity.ERROR, category='outputs')
def slightly_slow(ctx):
    '''Sleeps past a one-second budget, then reports.'''
    time.sleep(1.3)
    yield Violation('slow but done', ('Resources', 'Key'))
"""


@pytest.fixture
def slow_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "slow.py").write_text(SLOW_RULES)
    return folder


def _templates(tmp_path: Path, count: int) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for i in range(count):
        (folder / f"t{i}.yaml").write_text(UNROTATED)
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_rule_that_never_returns_is_stopped_and_the_run_goes_on(
        tmp_path: Path, slow_rules: Path, jobs: str) -> None:
    folder = _templates(tmp_path, 2)
    result = subprocess.run(
        [sys.executable, "-m", "cfnaudit", "scan", str(folder), "--rules-dir", str(slow_rules),
         "--select", "USR001,KMS001", "--rule-timeout", "0.5", "--jobs", jobs, "-f", "json"],
        capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    findings = json.loads(result.stdout)["findings"]
    by_code: dict[str, list[str]] = {}
    for finding in findings:
        by_code.setdefault(finding["code"], []).append(Path(finding["file"]).name)
    assert sorted(by_code["CFA006"]) == ["t0.yaml", "t1.yaml"]
    assert sorted(by_code["KMS001"]) == ["t0.yaml", "t1.yaml"]  # the other rule still ran
    message = next(f["message"] for f in findings if f["code"] == "CFA006")
    assert "rule USR001 (loops-forever) ran longer than the 0.5 s budget" in message
    assert "was stopped" in message


def test_the_budget_is_configurable_and_zero_means_no_limit(tmp_path: Path) -> None:
    (tmp_path / ".cfnaudit.yaml").write_text("rule_timeout: 2.5\n")
    assert load({}, tmp_path / ".cfnaudit.yaml", False)["rule_timeout"] == 2.5
    assert load({"rule_timeout": 0}, None, True)["rule_timeout"] == 0
    for wrong in (-1, "soon", True, [1]):
        with pytest.raises(ConfigError, match="rule_timeout"):
            load({"rule_timeout": wrong}, None, True)


def _only(codes: str, slow_rules: Path) -> list[Any]:
    return [r for r in load_rules([slow_rules]) if r.code in codes.split(",")]


def test_without_a_timer_a_slow_rule_is_measured_and_keeps_its_findings(
        tmp_path: Path, slow_rules: Path) -> None:
    """Outside the main thread no signal can interrupt a rule: it runs to its end, and going
    over the budget is still reported."""
    template = _templates(tmp_path, 1) / "t0.yaml"
    reports: list[Report] = []
    worker = threading.Thread(target=lambda: reports.append(audit(
        [template], Config(rule_timeout=1.0, jobs=1), rules=_only("USR002", slow_rules))))
    worker.start()
    worker.join(timeout=60)
    (report,) = reports
    messages = {f.code: f.message for f in report.findings}
    assert messages["USR002"] == "slow but done"
    assert "could not be stopped here" in messages["CFA006"]


def test_a_rule_within_its_budget_gives_no_timeout_finding(tmp_path: Path,
                                                           slow_rules: Path) -> None:
    template = _templates(tmp_path, 1) / "t0.yaml"
    report = audit([template], Config(rule_timeout=30, jobs=1),
                   rules=_only("USR002", slow_rules))
    assert [f.code for f in report.findings] == ["USR002"]


def test_an_error_outside_the_rules_stays_with_its_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _templates(tmp_path, 2)
    real = api.build_template

    def broken_for_t0(decoded: Any, file: str, *args: Any) -> Any:
        if file.endswith("t0.yaml"):
            raise MemoryError("simulated failure while building the model")
        return real(decoded, file, *args)

    monkeypatch.setattr(api, "build_template", broken_for_t0)
    report = audit([folder], Config(select=("KMS001",), jobs=1))
    assert {(Path(f.file).name, f.code) for f in report.findings} == {
        ("t0.yaml", "CFA003"), ("t1.yaml", "KMS001")}
    failure = next(f for f in report.findings if f.code == "CFA003")
    assert "checking this file failed: MemoryError: simulated failure" in failure.message
    assert {Path(o.file).name: o.status for o in report.files} == {"t0.yaml": "error",
                                                                   "t1.yaml": "scanned"}


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes")
@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github", "gitlab", "junit"])
def test_a_file_name_no_output_can_encode_does_not_abort_the_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str) -> None:
    folder = _templates(tmp_path, 1)
    os.rename(folder / "t0.yaml", os.path.join(os.fsencode(folder), b"bad\xff.yaml"))
    (folder / "good.yaml").write_text(UNROTATED)
    code, out, err = run(capsys, "scan", str(folder), "--select", "KMS001", "-f",
                         output_format)
    assert code == 1, err
    assert "internal error" not in err
    assert "bad" in out and "good.yaml" in out  # SARIF percent-encodes the name


def test_json_nested_thousands_deep_inside_strings_is_a_finding_not_a_crash() -> None:
    report = audit([FIXTURES / "bad_input" / "deep_json_in_string.yaml"], Config(jobs=1))
    assert not [f for f in report.findings if f.is_error]
    messages = {(f.code, f.resource): f.message for f in report.findings}
    assert "body is not valid JSON: nesting deeper than 100 levels" in messages[
        ("MON031", "Dashboard")]
    assert "tags cannot be checked" in messages[("TAG001", "Job")]


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="no interval timers here")
def test_the_previous_alarm_handler_is_restored_and_no_timer_is_left(tmp_path: Path) -> None:
    def mine(signum: int, frame: Any) -> None:
        raise AssertionError("a cfnaudit timer fired after the scan")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        audit([_templates(tmp_path, 1)], Config(select=("KMS001",), jobs=1, rule_timeout=5))
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, previous)
