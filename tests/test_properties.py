"""Random mutations of real templates never crash the engine or a rule.

Hypothesis drops and retypes keys, swaps intrinsics and injects odd values into real templates
(a fixed sample of the shared corpus, or the rule fixtures without it), writes the result as JSON
or YAML and scans it through the command line in-process with every rule. Whatever the input, the
scan must end with exit code 0, 1 or 2, print no internal error and report no CFA003 finding.
Derandomized and bounded so that CI sees the same examples every run.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CORPUS, FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cfnaudit.cli import main
from cfnaudit.decode import DecodeError, decode_bytes

MAX_SEED_BYTES = 12_000  # small templates keep each example fast


def _seed_paths() -> list[Path]:
    if CORPUS.is_dir():
        candidates = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".json"))
        small = [p for p in candidates if p.stat().st_size <= MAX_SEED_BYTES]
        return small[::12]
    return sorted((FIXTURES / "rules").glob("*/*.yaml"))


def _load_seeds() -> list[dict[str, Any]]:
    seeds = []
    for path in _seed_paths():
        try:
            data = decode_bytes(path.read_bytes()).data
        except DecodeError:
            continue
        if isinstance(data.get("Resources"), dict) and data["Resources"]:
            seeds.append(data)
    return seeds


SEEDS = _load_seeds()

ODD_VALUES: list[Any] = [
    None, "", 0, -1, 2**63, 1e308, True, False, [], {}, "x" * 5000, [[[[]]]], {"a": {"b": {}}},
    "${Missing}", "arn:aws:s3:::*", "*", {"Ref": "Missing"}, {"Ref": "AWS::NoValue"},
    {"Ref": ["not", "a", "name"]}, {"Fn::GetAtt": ["A", "B", "C"]}, {"Fn::GetAtt": "NoDot"},
    {"Fn::If": ["NoSuchCondition", 1]}, {"Fn::If": [["x"], 1, 2]}, {"Fn::Sub": 5},
    {"Fn::Sub": ["${X}", "not-a-map"]}, {"Fn::Join": 5}, {"Fn::Join": ["-", "not-a-list"]},
    {"Fn::Select": ["9", [1]]}, {"Fn::Select": [-1, []]}, {"Fn::Split": ["", "a"]},
    {"Fn::FindInMap": ["Nope", "K", "V"]}, {"Fn::FindInMap": [1]}, {"Fn::Cidr": ["x", "y", "z"]},
    {"Fn::Equals": [1]}, {"Fn::Not": []}, {"Fn::And": "x"}, {"Fn::Or": [{"Condition": 5}]},
    {"Condition": "Missing"}, {"Condition": {"x": 1}}, {"Fn::Base64": {"Fn::Base64": []}},
    {"Fn::GetAZs": {"Ref": "AWS::Region"}}, {"Fn::ImportValue": None}, {"Fn::Transform": 1},
    {"Fn::ForEach::Loop": ["X", ["a"], {"R${X}": {}}]}, {"Ref": "AWS::AccountId"},
]
INTRINSIC_KEYS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select",
                  "Fn::FindInMap", "Fn::Split", "Fn::Base64", "Condition", "Fn::Equals"]


def _paths(data: Any) -> list[tuple[Any, ...]]:
    """Every path to a value inside `data`, in a stable order (iterative: depth is bounded)."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if path:
            found.append(path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return found


def _retype(value: Any) -> Any:
    if isinstance(value, dict):
        return list(value.values()) or "was-a-mapping"
    if isinstance(value, list):
        return {f"k{i}": v for i, v in enumerate(value)} or "was-a-list"
    if isinstance(value, str):
        return [value]
    return str(value)


def _swap_intrinsic(value: Any, key: str) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (_, argument), = value.items()
        return {key: argument}
    return {key: value}


@st.composite
def mutated_templates(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(SEEDS[draw(st.integers(0, len(SEEDS) - 1))])
    for _ in range(draw(st.integers(1, 6))):
        paths = _paths(data)
        if not paths:
            break
        path = paths[draw(st.integers(0, len(paths) - 1))]
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        operation = draw(st.sampled_from(["drop", "odd", "retype", "swap", "rename"]))
        if operation == "drop":
            del parent[last]
        elif operation == "odd":
            parent[last] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif operation == "retype":
            parent[last] = _retype(parent[last])
        elif operation == "swap":
            parent[last] = _swap_intrinsic(parent[last], draw(st.sampled_from(INTRINSIC_KEYS)))
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["Type", "Properties", "Condition", "DependsOn",
                                         "Fn::If", "Ref", "Metadata", ""]))] = parent.pop(last)
    return data


def _scan(path: Path) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, JSON report, standard error)."""
    out = path.with_suffix(".out.json")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), pytest.raises(SystemExit) as done:
        main(["scan", str(path), "--format", "json", "-o", str(out)])
    report = out.read_text(encoding="utf-8") if out.exists() else ""
    return int(done.value.code or 0), report, errors.getvalue()


@pytest.mark.skipif(not SEEDS, reason="no seed templates")
@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(template=mutated_templates(), as_yaml=st.booleans())
def test_mutated_templates_never_crash_a_rule(template: dict[str, Any], as_yaml: bool,
                                              tmp_path: Path) -> None:
    path = tmp_path / ("t.yaml" if as_yaml else "t.json")
    text = (yaml.safe_dump(template, sort_keys=False) if as_yaml
            else json.dumps(template, indent=1))
    path.write_text(text, encoding="utf-8")
    code, report, errors = _scan(path)
    assert code in (0, 1, 2), errors
    assert "internal error" not in errors and "Traceback" not in errors, errors
    findings = json.loads(report)["findings"]
    crashes = [f["message"] for f in findings if f["code"] == "CFA003"]
    assert crashes == []
