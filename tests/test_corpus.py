"""Every real template in ../shared/corpus is scanned by every rule without a crash."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import CORPUS, needs_corpus

from cfnaudit.api import Config, Report, audit

pytestmark = needs_corpus


def _manifest() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def report() -> Report:
    return audit([CORPUS], Config())


def _outcomes(report: Report) -> dict[str, str]:
    return {Path(o.file).resolve().relative_to(CORPUS.resolve()).as_posix(): o.status
            for o in report.files}


def test_no_rule_crashes_on_any_template(report: Report) -> None:
    crashes = [f"{f.file}: {f.message}" for f in report.findings
               if f.category == "internal-error"]
    assert crashes == []


def test_every_manifest_file_is_accounted_for(report: Report) -> None:
    outcomes = _outcomes(report)
    for row in _manifest():
        path = f"{row['source']}/{row['relpath']}"
        assert path in outcomes, path
        if row["parse_ok"] == "0":
            assert outcomes[path] == "error", path
        elif row["is_cfn"] == "1":
            assert outcomes[path] in ("scanned", "error"), path


def test_unparsable_files_give_a_located_decode_error(report: Report) -> None:
    broken = {f"{r['source']}/{r['relpath']}" for r in _manifest() if r["parse_ok"] == "0"}
    assert broken
    for finding in report.findings:
        relative = Path(finding.file).resolve().relative_to(CORPUS.resolve()).as_posix()
        if relative in broken:
            assert finding.code == "CFA001"
            assert finding.location.line > 1  # the parser's position, not a default
    decode_errors = {Path(f.file).resolve().relative_to(CORPUS.resolve()).as_posix()
                     for f in report.findings if f.code == "CFA001"}
    assert broken <= decode_errors
