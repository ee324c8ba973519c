"""A structural fuzz: templates of the wrong shape never crash a rule or abort a scan.

Each example takes a seed template and applies a few mutations aimed at what rules read (resource
attributes, property shapes, policy parts, numbers, intrinsics, parameters, keys; see MUTATIONS),
writes it as YAML or JSON and scans it with every rule. Whatever the input, no rule may crash
(CFA003) and no exception may leave the engine; every few examples the command line runs too and
must exit with 0, 1 or 2 and print no internal error.

The fast run is seeded from the committed rule fixtures, so it is the same on every machine and
every run (one `random.Random` per example, seeded with the example's number). The slow run does
thousands of examples seeded from `../shared/corpus` when it is present, else from the fixtures.
A failure prints the example's number, its mutations and the mutant itself.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import CORPUS, RULE_FIXTURES

from cfnaudit.api import Config, resolve_rules
from cfnaudit.cli import main
from cfnaudit.decode import DecodeError, decode_text
from cfnaudit.engine import run_rules
from cfnaudit.template import NotATemplate, build_template

FAST_EXAMPLES = 1000
SLOW_EXAMPLES = 6000
CLI_EVERY = 40  # every n-th example also goes through the command line (exit code, stderr)
MAX_SEED_BYTES = 20_000  # small corpus templates keep each example fast
MAX_MUTATIONS = 4  # per example: a few at once reach states one alone does not
RULES = resolve_rules(Config())

INF = float("inf")
NO_VALUE = {"Ref": "AWS::NoValue"}

# Values of every shape, legal and not, that a rule may meet where it expects something else.
SHAPES: list[Any] = [
    None, "", "text", "7", "7.5", " 8 ", "-1", "true", "False", 0, 7, -1, 7.5, 1e308, 10**40,
    INF, -INF, math.nan, True, False, [], [7], ["a", "b"], [[1]], [None], [{}], {}, {"a": 1},
    {"a": [1]}, NO_VALUE, {"Fn::If": ["Fuzz", 1, NO_VALUE]}, {"Ref": "Missing"},
    {"Ref": "FuzzParam"}, {"Fn::GetAtt": ["Missing", "Arn"]}, {"Fn::Sub": "${AWS::Region}"},
    {"Fn::Join": ["", [1, 2]]}, "@@cfnaudit0@@", "@@cfnaudit99@@", "${Missing}",
]
NUMBERS: list[Any] = [
    "7", "7.5", "0x10", " 8 ", "", "eighty", 7.5, 7.0, -0.0, 1e308, 10**40, -(10**40), INF, -INF,
    math.nan, True, False, None, [], [80], {}, {"a": 1}, NO_VALUE, {"Ref": "FuzzParam"},
    {"Fn::Select": [0, [80]]}, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
]
# Intrinsics with the wrong arity or argument types.
BROKEN_INTRINSICS: list[Any] = [
    {"Ref": ["a"]}, {"Ref": 5}, {"Ref": None}, {"Ref": ""}, {"Fn::GetAtt": ["A", "B", "C"]},
    {"Fn::GetAtt": "NoDot"}, {"Fn::GetAtt": [1, 2]}, {"Fn::GetAtt": {}}, {"Fn::If": ["Fuzz", 1]},
    {"Fn::If": [["x"], 1, 2]}, {"Fn::If": "Fuzz"}, {"Fn::If": ["Fuzz", {}, [], 3]},
    {"Fn::Sub": 5}, {"Fn::Sub": ["${X}", "not-a-map"]}, {"Fn::Sub": ["${X}", {"X": [1]}]},
    {"Fn::Sub": []}, {"Fn::Join": 5}, {"Fn::Join": ["-", "not-a-list"]},
    {"Fn::Join": [1, [2]]}, {"Fn::Join": ["-", [[1], {"a": 1}]]}, {"Fn::Select": ["9", [1]]},
    {"Fn::Select": [-1, []]}, {"Fn::Select": [INF, [1]]}, {"Fn::Select": [[0], [1]]},
    {"Fn::Select": [0, "abc"]}, {"Fn::Select": [0, {"a": 1}]}, {"Fn::Split": ["", "a"]},
    {"Fn::Split": [",", 5]}, {"Fn::Split": [[","], "a"]}, {"Fn::FindInMap": ["Nope", "K", "V"]},
    {"Fn::FindInMap": [1]}, {"Fn::FindInMap": [[1], {}, None]}, {"Fn::FindInMap": "x"},
    {"Fn::Cidr": ["x", "y", "z"]}, {"Fn::Cidr": ["10.0.0.0/16", INF, 8]},
    {"Fn::Cidr": ["10.0.0.0/16", None, [8]]}, {"Fn::Cidr": ["10.0.0.0/16", 2, -8]},
    {"Fn::Cidr": ["10.0.0.0/16", 2, 99]}, {"Fn::Cidr": [[], {}, math.nan]},
    {"Fn::Equals": [1]}, {"Fn::Not": []}, {"Fn::And": "x"}, {"Fn::Or": [{"Condition": 5}]},
    {"Condition": "Missing"}, {"Condition": {"x": 1}}, {"Fn::Base64": {"Fn::Base64": []}},
    {"Fn::GetAZs": {"Ref": "AWS::Region"}}, {"Fn::ImportValue": None}, {"Fn::Transform": 1},
    {"Fn::Length": "x"}, {"Fn::ToJsonString": None}, {"Fn::ForEach::Loop": ["X", ["a"], {}]},
]
ATTRIBUTES = ("Type", "Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy",
              "Metadata", "Properties", "CreationPolicy", "UpdatePolicy")
POLICY_PARTS: dict[str, list[Any]] = {
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}, [], "*", 7, None, [None], [[]],
        [{"Effect": "Allow"}], [{"Effect": ["Allow"], "Action": {"a": 1}}], NO_VALUE,
        [{"Fn::If": ["Fuzz", {"Effect": "Allow", "Action": "*", "Resource": "*"}, NO_VALUE]}],
    ],
    "Principal": [
        "*", {"AWS": "*"}, {"AWS": ["*", {"Ref": "AWS::AccountId"}]}, {"Service": [7, None]},
        {"AWS": {"a": 1}}, {"Federated": []}, {"CanonicalUser": NO_VALUE}, ["*"], 7, None, {},
        {"AWS": [["*"]]}, NO_VALUE,
    ],
    "Action": ["*", ["s3:*", "kms:*"], "s3:Get*", [], 7, None, {"a": "s3:*"}, [["s3:*"]],
               [None, 7], NO_VALUE, ["*" * 3], {"Fn::If": ["Fuzz", "*", NO_VALUE]}],
    "Resource": ["*", ["arn:aws:s3:::b/*"], [], 7, None, {"a": 1}, [[1]], NO_VALUE],
    "Effect": ["Allow", "Deny", "allow", 7, None, ["Allow"], {"a": 1}, NO_VALUE],
    "Condition": [
        {"StringEquals": {"aws:SourceAccount": "1"}}, {"StringEquals": "x"}, [], 7, None,
        {"StringEquals": {"aws:SourceArn": [["x"]]}}, {"Bool": {"aws:SecureTransport": [False]}},
        {"StringEquals": {"k": {"a": 1}}}, {"ForAnyValue:StringLike": {"k": [None, 7]}},
        {"ArnLike": NO_VALUE}, {7: {"k": "v"}}, NO_VALUE,
    ],
}
NUMBER_HINTS = ("port", "count", "size", "days", "seconds", "period", "threshold", "memory",
                "timeout", "retention", "capacity", "limit", "interval", "number", "points",
                "minutes", "hours", "version", "batch", "age", "priority", "max", "min")
ODD_KEYS: list[Any] = [1, 0, True, False, 1.5, "1", "true", "", "Fn::If", "Ref", "Fn::Sub",
                       "Type", "Properties", "Condition", "DependsOn", "Metadata"]
INTRINSIC_NAMES = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::If", "Fn::Join", "Fn::Select",
                   "Fn::FindInMap", "Fn::Split", "Fn::Cidr", "Fn::Base64", "Fn::GetAZs",
                   "Fn::ImportValue", "Condition", "Fn::Equals", "Fn::Not"]


@dataclass(frozen=True)
class Seed:
    name: str
    data: dict[str, Any]


def _load_seeds(paths: list[Path]) -> list[Seed]:
    seeds = []
    for path in paths:
        try:
            data = decode_text(path.read_text(encoding="utf-8")).data
        except (DecodeError, UnicodeDecodeError):
            continue
        if isinstance(data.get("Resources"), dict) and data["Resources"]:
            seeds.append(Seed(str(path), data))
    return seeds


def _fixture_seeds() -> list[Seed]:
    return _load_seeds(sorted(RULE_FIXTURES.glob("*/*.yaml")))


def _corpus_seeds() -> list[Seed]:
    if not CORPUS.is_dir():
        return _fixture_seeds()
    candidates = sorted(p for p in CORPUS.rglob("*")
                        if p.suffix in (".yaml", ".yml", ".json", ".template"))
    small = [p for p in candidates if p.is_file() and p.stat().st_size <= MAX_SEED_BYTES]
    return _load_seeds(small) + _fixture_seeds()


# ---------------------------------------------------------------------------------- walking


def _paths(data: Any, under: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `data` (iterative; stable order)."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, under)]
    while stack:
        node, path = stack.pop()
        if len(path) > len(under):
            found.append(path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in reversed(list(enumerate(node))))
    return found


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _resources(data: dict[str, Any]) -> list[str]:
    resources = data.get("Resources")
    return list(resources) if isinstance(resources, dict) else []


def _property_paths(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [p for p in _paths(data.get("Resources", {}), ("Resources",))
            if len(p) >= 4 and p[2] == "Properties"]


# -------------------------------------------------------------------------------- mutations
# Each takes the random source and the template (mutated in place) and says what it did.

Mutation = Callable[[random.Random, dict[str, Any]], str]


def _pick(rng: random.Random, values: list[Any]) -> Any:
    return copy.deepcopy(values[rng.randrange(len(values))])


def resource_attribute(rng: random.Random, data: dict[str, Any]) -> str:
    """A resource attribute (`Type` ... `UpdatePolicy`) of some other shape."""
    ids = _resources(data)
    if not ids:
        return "no resources"
    logical_id, attribute = rng.choice(ids), rng.choice(ATTRIBUTES)
    resource = data["Resources"][logical_id]
    if not isinstance(resource, dict):
        return "resource is not a mapping"
    value = _pick(rng, SHAPES)
    if attribute == "Properties" and rng.random() < 0.3 and isinstance(resource.get(attribute),
                                                                       dict):
        value = {"Fn::If": ["Fuzz", resource[attribute], _pick(rng, [NO_VALUE, {}, 7])]}
    resource[attribute] = value
    return f"Resources.{logical_id}.{attribute} = {value!r}"


def reshape(value: Any, rng: random.Random) -> Any:
    """`value` moved to another shape: wrapped in or taken out of a list, made a mapping, a
    scalar, null, AWS::NoValue, or one branch of an Fn::If."""
    choice = rng.randrange(8)
    if choice == 0:
        return [value]
    if choice == 1:
        if isinstance(value, list) and value:
            return value[0]
        return {"Key": value}
    if choice == 2:
        return {f"k{i}": v for i, v in enumerate(value)} if isinstance(value, list) else \
            list(value.values()) if isinstance(value, dict) else {"Value": value}
    if choice == 3:
        return _pick(rng, [7, "text", 7.5, True, INF])
    if choice == 4:
        return None
    if choice == 5:
        return copy.deepcopy(NO_VALUE)
    if choice == 6:
        return {"Fn::If": ["Fuzz", value, copy.deepcopy(NO_VALUE)]}
    return {"Fn::If": ["Fuzz", copy.deepcopy(NO_VALUE), value]}


def property_shape(rng: random.Random, data: dict[str, Any]) -> str:
    """A property, or any part below one, in another shape."""
    paths = _property_paths(data)
    if not paths:
        return "no properties"
    path = rng.choice(paths)
    value = reshape(_get(data, path), rng)
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} reshaped to {value!r}"[:300]


def top_property(rng: random.Random, data: dict[str, Any]) -> str:
    """A property a rule reads directly (a top-level or second-level one) of any shape or
    number-like value."""
    paths = [p for p in _property_paths(data) if len(p) <= 5]
    if not paths:
        return "no properties"
    path = rng.choice(paths)
    value = _pick(rng, SHAPES + NUMBERS + BROKEN_INTRINSICS[:12])
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value!r}"


def wrap_if(rng: random.Random, data: dict[str, Any]) -> str:
    """A value (often a list item or a whole `Properties`) wrapped in an `Fn::If` whose
    condition is defined, undefined or not a name, with AWS::NoValue or another shape in the
    other branch."""
    paths = [p for p in _paths(data.get("Resources", {}), ("Resources",)) if len(p) >= 3]
    if not paths:
        return "no values"
    path = rng.choice(paths)
    condition = rng.choice(["Fuzz", "Fuzz", "Undefined", ["Fuzz"], 7])
    other = _pick(rng, [NO_VALUE, NO_VALUE, {}, [], None, 7])
    branches = [_get(data, path), other]
    rng.shuffle(branches)
    value = {"Fn::If": [condition, *branches]}
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} wrapped in {value!r}"[:300]


def policy_part(rng: random.Random, data: dict[str, Any]) -> str:
    """`Statement`, `Principal`, `Action`, `Resource`, `Effect` or `Condition` of a policy in
    another legal or illegal shape (anywhere in the template: policies nest at many depths)."""
    paths = [p for p in _paths(data) if p[-1] in POLICY_PARTS]
    if not paths:
        return "no policy parts"
    path = rng.choice(paths)
    value = _pick(rng, POLICY_PARTS[path[-1]])
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value!r}"


def number(rng: random.Random, data: dict[str, Any]) -> str:
    """A number-like property (ports, counts, sizes, days...) as a string, float, infinity,
    NaN, huge integer, boolean, list or mapping."""
    paths = [p for p in _property_paths(data) if isinstance(p[-1], str)
             and any(h in p[-1].lower() for h in NUMBER_HINTS)]
    paths = paths or [p for p in _property_paths(data)
                      if isinstance(_get(data, p), int | float)]
    if not paths:
        return "no numbers"
    path = rng.choice(paths)
    value = _pick(rng, NUMBERS)
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value!r}"


def intrinsic(rng: random.Random, data: dict[str, Any]) -> str:
    """A value replaced with an intrinsic function of the wrong arity or argument types, or an
    existing intrinsic given another function's name (its argument kept)."""
    paths = _paths(data.get("Resources", {}), ("Resources",)) + _paths(
        data.get("Outputs", {}), ("Outputs",)) + _paths(data.get("Conditions", {}),
                                                        ("Conditions",))
    if not paths:
        return "no values"
    calls = [p for p in paths if isinstance(p[-1], str)
             and (p[-1] == "Ref" or p[-1].startswith("Fn::"))]
    if calls and rng.random() < 0.4:
        path = rng.choice(calls)
        parent, name = _get(data, path[:-1]), rng.choice(INTRINSIC_NAMES)
        if name not in parent:
            parent[name] = parent.pop(path[-1])
        return f"{'.'.join(map(str, path))} renamed to {name}"
    path = rng.choice(paths)
    value = _pick(rng, BROKEN_INTRINSICS)
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value!r}"


def parameter(rng: random.Random, data: dict[str, Any]) -> str:
    """A parameter (existing, or `FuzzParam` that SHAPES and NUMBERS refer to) whose `Type`,
    `Default`, `AllowedValues` or `NoEcho` has the wrong type, or that loses its default."""
    parameters = data.setdefault("Parameters", {})
    if not isinstance(parameters, dict):
        return "Parameters is not a mapping"
    name = rng.choice([*parameters, "FuzzParam"])
    entry = parameters.setdefault(name, {"Type": "String", "Default": "x"})
    if not isinstance(entry, dict):
        return f"parameter {name} is not a mapping"
    key = rng.choice(["Type", "Default", "Default", "AllowedValues", "NoEcho", "drop-default"])
    if key == "drop-default":
        entry.pop("Default", None)
        return f"Parameters.{name} has no Default"
    value = _pick(rng, SHAPES)
    entry[key] = value
    return f"Parameters.{name}.{key} = {value!r}"


def section(rng: random.Random, data: dict[str, Any]) -> str:
    """A section entry (`Conditions`, `Mappings`, `Outputs`, and the `Value`/`Export` of an
    output) of the wrong shape."""
    name = rng.choice(["Conditions", "Mappings", "Outputs", "Parameters", "Metadata"])
    value = _pick(rng, SHAPES)
    target = data.get(name)
    if isinstance(target, dict) and target and rng.random() < 0.8:
        entry = rng.choice(list(target))
        if name == "Outputs" and isinstance(target[entry], dict) and rng.random() < 0.6:
            part = rng.choice(["Value", "Export", "Condition"])
            if part == "Export" and rng.random() < 0.5:
                value = {"Name": value}
            target[entry][part] = value
            return f"Outputs.{entry}.{part} = {value!r}"
        if name == "Mappings" and isinstance(target[entry], dict) and target[entry] \
                and rng.random() < 0.5:
            inner = rng.choice(list(target[entry]))
            target[entry][inner] = value
            return f"Mappings.{entry}.{inner} = {value!r}"
        target[entry] = value
        return f"{name}.{entry} = {value!r}"
    data[name] = value
    return f"{name} = {value!r}"


def odd_key(rng: random.Random, data: dict[str, Any]) -> str:
    """A key renamed to a number or boolean (YAML `1:` / `true:`) or to an intrinsic's name."""
    paths = [p for p in _paths(data) if isinstance(p[-1], str)]
    if not paths:
        return "no keys"
    path = rng.choice(paths)
    parent = _get(data, path[:-1])
    key = rng.choice(ODD_KEYS)
    if key in parent or str(key).lower() in map(str, parent):
        return "key taken"
    parent[key] = parent.pop(path[-1])
    return f"{'.'.join(map(str, path))} renamed to {key!r}"


def json_string(rng: random.Random, data: dict[str, Any]) -> str:
    """A mapping property (a dashboard body, a policy, tags) given as a JSON string of another
    shape, as some resource types allow."""
    paths = [p for p in _property_paths(data) if isinstance(_get(data, p), dict | list)]
    paths = paths or _property_paths(data)
    if not paths:
        return "no properties"
    path = rng.choice(paths)
    inner = rng.choice([_get(data, path), 7, [1, [2]], {"widgets": 7}, {"widgets": [7, None]},
                        {"widgets": [{"properties": {"metrics": [[7], "x", None]}}]},
                        {"widgets": [{"properties": {"metrics": "@@cfnaudit0@@"}}]}])
    value = json.dumps(inner, default=str)
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value[:120]!r}"


def drop(rng: random.Random, data: dict[str, Any]) -> str:
    """A key or list item removed."""
    paths = _paths(data)
    if not paths:
        return "empty"
    path = rng.choice(paths)
    del _get(data, path[:-1])[path[-1]]
    return f"{'.'.join(map(str, path))} dropped"


# Values that stress what lies between a rule and the report: a lone UTF-16 surrogate (written
# as the JSON escape `\ud800`), an integer of 5,000 digits (over Python's conversion limit)
# and JSON text nested thousands deep inside a string. Markers are replaced in the written text.
HUGE = "@@huge-number@@"
SURROGATE = "@@lone-surrogate@@"
EXTREMES: list[Any] = [HUGE, SURROGATE, f"x{SURROGATE}y", "[" * 3000 + "]" * 3000,
                       '{"a":' * 2000 + "1" + "}" * 2000]


def extreme(rng: random.Random, data: dict[str, Any]) -> str:
    """A value, or a resource's logical id, that no output can encode or no parser can nest."""
    resources = data.get("Resources")
    if isinstance(resources, dict) and resources and rng.random() < 0.3:
        logical_id = rng.choice(list(resources))
        renamed = f"{logical_id}{SURROGATE}"
        resources[renamed] = resources.pop(logical_id)
        return f"Resources.{logical_id} renamed to {renamed!r}"
    paths = _property_paths(data) or _paths(data)
    if not paths:
        return "empty"
    path = rng.choice(paths)
    value = rng.choice(EXTREMES)
    _set(data, path, value)
    return f"{'.'.join(map(str, path))} = {value[:40]!r}"


MUTATIONS: tuple[Mutation, ...] = (
    resource_attribute, property_shape, top_property, wrap_if, policy_part, number, intrinsic,
    parameter, section, odd_key, json_string, drop, extreme)


def mutant(seeds: list[Seed], number_: int) -> tuple[Seed, dict[str, Any], list[str], bool]:
    """Example `number_`: (seed, mutated data, what was done, write as YAML?)."""
    rng = random.Random(number_)
    seed = seeds[rng.randrange(len(seeds))]
    data = copy.deepcopy(seed.data)
    # A condition named Fuzz lets the Fn::If values above resolve in both branches.
    conditions = data.setdefault("Conditions", {})
    if isinstance(conditions, dict):
        conditions.setdefault("Fuzz", {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]})
    done = []
    for _ in range(rng.randint(1, MAX_MUTATIONS)):
        mutation = rng.choice(MUTATIONS)
        done.append(f"{mutation.__name__}: {mutation(rng, data)}")
    return seed, data, done, rng.random() < 0.6


# ----------------------------------------------------------------------------------- running


def _text(data: dict[str, Any], as_yaml: bool) -> str:
    digits = "9" * 5000
    if as_yaml:
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=200)
        for quote in ("'", '"', ""):
            text = text.replace(f"{quote}{HUGE}{quote}", digits)
        # A plain scalar holding the marker becomes a double-quoted one with the escape.
        return re.sub(rf"([^\s'\"]*){re.escape(SURROGATE)}([^\s:'\"]*)",
                      lambda m: f'"{m.group(1)}\\ud800{m.group(2)}"', text)
    text = json.dumps(data, indent=1, default=str)
    return text.replace(f'"{HUGE}"', digits).replace(SURROGATE, "\\ud800")


def _engine_crashes(text: str, file: str) -> list[str]:
    try:
        template = build_template(decode_text(text), file)
    except (DecodeError, NotATemplate):
        return []
    findings = run_rules(template, RULES).findings
    return [f.message for f in findings if f.code == "CFA003"]


def _cli(path: Path) -> tuple[int, str]:
    """Exit code and standard error of a scan; a CFA003 in the JSON report counts as an
    internal error too."""
    errors = io.StringIO()
    out = path.with_suffix(".out.json")
    out.unlink(missing_ok=True)
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()), \
            pytest.raises(SystemExit) as done:
        main(["scan", str(path), "--format", "json", "-o", str(out)])
    findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
    crashes = [f["message"] for f in findings if f["code"] == "CFA003"]
    return int(done.value.code or 0), errors.getvalue() + "".join(
        f"internal error: {c}\n" for c in crashes)


def _failure(number_: int, seed: Seed, done: list[str], text: str, problem: str) -> str:
    return (f"example {number_} (seed {seed.name}):\n  " + "\n  ".join(done)
            + f"\n{problem}\n--- mutant ---\n{text[:6000]}")


def run_fuzz(seeds: list[Seed], numbers: range, tmp_path: Path) -> Iterator[str]:
    """Failures (printable) of the examples `numbers`."""
    for number_ in numbers:
        seed, data, done, as_yaml = mutant(seeds, number_)
        text = _text(data, as_yaml)
        try:
            crashes = _engine_crashes(text, "mutant.yaml" if as_yaml else "mutant.json")
        except Exception as exc:  # anything leaving the engine aborts a user's whole run
            yield _failure(number_, seed, done, text, f"engine raised {exc!r}")
            continue
        if crashes:
            yield _failure(number_, seed, done, text, "CFA003: " + "\n".join(crashes))
            continue
        if number_ % CLI_EVERY == 0 or any("extreme" in step for step in done):
            path = tmp_path / ("mutant.yaml" if as_yaml else "mutant.json")
            path.write_text(text, encoding="utf-8")
            code, errors = _cli(path)
            if code not in (0, 1, 2) or "internal error" in errors or "Traceback" in errors:
                yield _failure(number_, seed, done, text, f"exit {code}: {errors}")


def _check(seeds: list[Seed], count: int, tmp_path: Path) -> None:
    assert seeds, "no seed templates"
    failures = []
    for failure in run_fuzz(seeds, range(count), tmp_path):
        failures.append(failure)
        if len(failures) >= 5:
            break
    assert not failures, "\n\n".join(failures)


def test_mutants_of_the_rule_fixtures_never_crash(tmp_path: Path) -> None:
    _check(_fixture_seeds(), FAST_EXAMPLES, tmp_path)


@pytest.mark.slow
def test_mutants_of_real_templates_never_crash(tmp_path: Path) -> None:
    _check(_corpus_seeds(), SLOW_EXAMPLES, tmp_path)


def test_every_mutation_kind_changes_its_seed() -> None:
    """The fuzz is only as good as its mutations: each kind must find something to mutate in
    many fixtures and then actually alter the template."""
    seeds = _fixture_seeds()
    for mutation in MUTATIONS:
        applicable = changed = 0
        for number_ in range(200):
            rng = random.Random(number_)
            seed = seeds[rng.randrange(len(seeds))]
            data = copy.deepcopy(seed.data)
            said = mutation(rng, data)
            if said.startswith("no ") or said in ("key taken", "empty"):
                continue
            applicable += 1
            changed += data != seed.data
        assert applicable >= 30, mutation.__name__
        assert changed >= 0.9 * applicable, mutation.__name__
