"""A template gives the same findings whether it is written in YAML or in JSON.

Every YAML template of the shared corpus is converted to JSON with cfn-flip (the converter AWS
publishes) and both forms are scanned with every rule: the findings must agree on code, logical
id, path and message. Locations differ by nature and are not compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from helpers import CORPUS

from cfnaudit.api import Config, Report, audit, resolve_rules
from cfnaudit.rule import Rule

pytestmark = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").is_file(),
                                reason="shared corpus not present")

YAML_TEMPLATES = sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
                        if p.suffix in (".yaml", ".yml") and p.is_file()) if CORPUS.is_dir() \
    else []

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
    if as_yaml.files[0].status != "scanned":
        pytest.skip(f"{relative} is {as_yaml.files[0].status}: there is nothing to compare")
    converted = tmp_path / (source.stem + ".json")
    converted.write_text(cfn_flip.to_json(source.read_text(encoding="utf-8")), encoding="utf-8")
    as_json = audit([converted], Config(), rules=rules)
    assert as_json.files[0].status == "scanned"
    yaml_findings, json_findings = _findings(as_yaml), _findings(as_json)
    assert [f for f in yaml_findings if f not in json_findings] == []
    assert [f for f in json_findings if f not in yaml_findings] == []
