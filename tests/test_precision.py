"""The judged set: findings read against their templates keep their verdicts (see
tests/precision/README.md), and docs/precision.md is current."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from helpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import precision_report  # tools/ is not a package; imported after the path is set

from cfnaudit.registry import builtin_rules_dir, load_rules  # after the path

VERDICTS = precision_report.load_verdicts()
OPEN = precision_report.load_verdicts(precision_report.OPEN)
CORPUS_PRESENT = precision_report.corpus_dir().is_dir()
needs_corpus = pytest.mark.skipif(not CORPUS_PRESENT, reason="../shared/corpus is absent")


def test_judged_set_is_large_and_covers_every_rule_that_fired() -> None:
    codes = {r.code for r in load_rules([builtin_rules_dir()])}
    judged = Counter(v.code for v in VERDICTS)
    assert len(VERDICTS) >= 200
    assert set(judged) <= codes, set(judged) - codes
    assert all(v.reason.strip() for v in VERDICTS)
    fired_before = precision_report.json.loads(
        precision_report.BEFORE.read_text(encoding="utf-8"))["counts"]
    unjudged = [code for code, count in fired_before.items() if count and code not in judged]
    assert not unjudged, f"rules that fired on the corpus but have no verdict: {unjudged}"


def test_verdicts_on_the_project_templates_hold() -> None:
    local = [v for v in VERDICTS if not v.needs_corpus]
    assert local, "the judged set includes the flawed pipeline"
    problems = precision_report.broken(local, precision_report.scan(v.disk_path() for v in local))
    assert not problems, "\n".join(problems)


@needs_corpus
def test_verdicts_on_the_corpus_hold() -> None:
    remote = [v for v in VERDICTS if v.needs_corpus]
    problems = precision_report.broken(remote,
                                       precision_report.scan(v.disk_path() for v in remote))
    assert not problems, "\n".join(problems)


def test_open_entries_are_judged_problems() -> None:
    assert all(v.verdict != "true" and v.reason.strip() for v in OPEN)


@needs_corpus
def test_open_entries_are_still_reported() -> None:
    """An open entry that is fixed moves to verdicts/, where the test keeps it fixed."""
    problems = precision_report.fixed(OPEN, precision_report.scan(v.disk_path() for v in OPEN))
    assert not problems, "\n".join(problems)


@needs_corpus
def test_precision_page_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "precision_report.py"),
                             "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
