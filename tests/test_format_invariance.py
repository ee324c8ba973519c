"""A template gives the same findings whether it is written in YAML or in JSON.

Every YAML template of the shared corpus is converted to JSON with cfn-flip (the converter AWS
publishes) and both forms are scanned with every rule: the findings must agree on code, logical
id, path and message. Locations differ by nature and are not compared.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import CORPUS, needs_corpus

from cfnaudit.api import Config, Report, audit, resolve_rules
from cfnaudit.rule import Rule

pytestmark = needs_corpus

def _yaml_templates() -> list[str]:
    """YAML files the corpus manifest lists as parseable CloudFormation templates."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return sorted(f"{r['source']}/{r['relpath']}" for r in rows
                  if r["format"] == "yaml" and r["is_cfn"] == "1" and r["parse_ok"] == "1")


YAML_TEMPLATES = _yaml_templates()

Finding = tuple[str, str | None, tuple[str | int, ...], str]


@pytest.fixture(scope="module")
def rules() -> tuple[Rule, ...]:
    return resolve_rules(Config())


def _findings(report: Report) -> list[Finding]:
    return sorted({(f.code, f.resource, tuple(f.path), f.message) for f in report.findings},
                  key=repr)


@pytest.mark.parametrize("relative", YAML_TEMPLATES)
def test_yaml_and_its_json_conversion_give_the_same_findings(
        relative: str, rules: Sequence[Rule], tmp_path: Path) -> None:
    cfn_flip = pytest.importorskip("cfn_flip")
    source = CORPUS / relative
    as_yaml = audit([source], Config(), rules=rules)
    if as_yaml.files[0].status == "error":
        # Templates for other tools (`!Rain::Embed` tags, ...) are not CloudFormation: the
        # only thing to check is that the refusal is a located decode error.
        (refusal,) = as_yaml.findings
        assert refusal.code == "CFA001" and refusal.location.line > 1
        return
    converted = tmp_path / (source.stem + ".json")
    converted.write_text(cfn_flip.to_json(source.read_text(encoding="utf-8")), encoding="utf-8")
    as_json = audit([converted], Config(), rules=rules)
    assert as_json.files[0].status == "scanned"
    yaml_findings, json_findings = _findings(as_yaml), _findings(as_json)
    assert [f for f in yaml_findings if f not in json_findings] == []
    assert [f for f in json_findings if f not in yaml_findings] == []
