"""The reference stack's assets: generated files in sync, code compiling and tested,
cfn-lint clean, and the flawed fixture still a parseable template with its cycle."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "reference_stack"
TEMPLATE = STACK / "pipeline.yaml"
FLAWED = ROOT / "fixtures" / "model_response" / "pipeline.yaml"
CODE_FILES = sorted([*(STACK / "lambda").glob("*.py"), *(STACK / "glue").glob("*.py")])


def _load_build():
    spec = importlib.util.spec_from_file_location("reference_stack_build", STACK / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_json(path: Path) -> dict:
    from cfn_flip import to_json

    return json.loads(to_json(path.read_text(encoding="utf-8")))


def test_build_outputs_are_in_sync():
    build = _load_build()
    stale = [str(p.relative_to(ROOT)) for p in build.stale_files()]
    assert stale == [], "run: python reference_stack/build.py"


def test_inlined_code_is_the_module_source():
    resources = _load_json(TEMPLATE)["Resources"]
    inlined = {
        name: res["Properties"]["Code"]["ZipFile"]
        for name, res in resources.items()
        if res["Type"] == "AWS::Lambda::Function"
    }
    sources = {p.read_text(encoding="utf-8") for p in (STACK / "lambda").glob("*.py")}
    assert inlined and all(code in sources for code in inlined.values())
    assert all(len(code) <= 4096 for code in inlined.values())
    script = resources["GlueScriptUpload"]["Properties"]["ScriptBody"]
    assert script == (STACK / "glue" / "etl_job.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", CODE_FILES, ids=lambda p: str(p.relative_to(STACK)))
def test_code_compiles(path: Path):
    compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_lambda_unit_tests_pass():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(STACK / "lambda" / "tests")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_nothing():
    api = pytest.importorskip("cfnlint.api")
    matches = api.lint_file(
        TEMPLATE, api.ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"])
    )
    found = [f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches]
    assert found == []


def _references(value) -> set[str]:
    """Logical ids a property value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text)}
                if isinstance(inner, list):
                    found |= _references(inner[1])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _dependency_edges(template: dict) -> dict[str, set[str]]:
    resources = template["Resources"]
    edges = {}
    for name, res in resources.items():
        depends = res.get("DependsOn", [])
        targets = _references(res.get("Properties", {})) | set(
            [depends] if isinstance(depends, str) else depends
        )
        edges[name] = {t for t in targets if t in resources}
    return edges


def _has_cycle(edges: dict[str, set[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for nxt in edges[node]:
            if state.get(nxt) == 1 or (nxt not in state and visit(nxt)):
                return True
        state[node] = 2
        return False

    return any(node not in state and visit(node) for node in edges)


def test_reference_stack_has_no_dependency_cycle():
    assert not _has_cycle(_dependency_edges(_load_json(TEMPLATE)))


def test_flawed_fixture_parses_and_has_the_notification_cycle():
    template = _load_json(FLAWED)
    assert {"Parameters", "Resources", "Outputs"} <= set(template)
    assert _has_cycle(_dependency_edges(template))


def test_flawed_fixture_is_otherwise_valid_for_cfn_lint():
    """cfn-lint's only error on the flawed pipeline is the circular dependency (E3004)."""
    api = pytest.importorskip("cfnlint.api")
    rule_ids = {m.rule.id for m in api.lint_file(FLAWED, api.ManualArgs())}
    assert rule_ids == {"E3004"}
