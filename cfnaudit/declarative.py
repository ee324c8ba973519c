"""Declarative YAML rules: one resource type, a flat AND of property assertions.

    code: KMS001
    name: kms-key-rotation
    severity: error
    category: kms-rotation
    resource_types: [AWS::KMS::Key]
    applies_when:              # optional; a resource failing any of these is not checked
      - {path: KeySpec, op: in, value: [SYMMETRIC_DEFAULT], if_absent: true}
    require:                   # each failing assertion is one violation
      - {path: EnableKeyRotation, op: equals, value: true}
    message: "Key `{resource}` does not rotate its key material"
    docs: |
      ...ruff-style sections...

Paths are jsonpath-ng expressions relative to the resource's `Properties`; every value a path
selects must pass. Values are read in every condition scenario and through parameter defaults;
a value that cannot be resolved is reported as unverifiable, never passed. The operator set is
closed; a rule that needs more (or, nesting, a second resource) is written in Python.
This is the only module that imports jsonpath-ng.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Any

from cfnaudit.rule import (
    NAME_PATTERN,
    Context,
    Resource,
    Rule,
    Severity,
    Unresolved,
    Variant,
    Violation,
)

OPERATORS = frozenset({"equals", "not_equals", "in", "not_in", "exists", "absent", "matches",
                       "at_least", "at_most"})
_RULE_KEYS = frozenset({"code", "name", "severity", "category", "resource_types", "applies_when",
                        "require", "message", "docs", "options", "security"})
_ASSERTION_KEYS = frozenset({"path", "op", "value", "if_absent", "message"})


class RuleDefinitionError(Exception):
    pass


@dataclass(frozen=True)
class Assertion:
    path: str
    op: str
    value: Any
    if_absent: bool
    message: str | None

    def holds(self, actual: Any) -> bool:
        op, expected = self.op, self.value
        if op == "exists":
            return True
        if op == "absent":
            return False
        if op in ("equals", "not_equals"):
            same = _same(actual, expected)
            return same if op == "equals" else not same
        if op in ("in", "not_in"):
            inside = any(_same(actual, e) for e in expected)
            return inside if op == "in" else not inside
        if op == "matches":
            return isinstance(actual, str) and re.search(str(expected), actual) is not None
        number = _number(actual)
        if number is None:
            return False
        return bool(number >= expected if op == "at_least" else number <= expected)


def _same(actual: Any, expected: Any) -> bool:
    """CloudFormation reads "true" as true and "7" as 7: compare as it would."""
    if isinstance(expected, bool):
        if isinstance(actual, str):
            return actual.lower() == str(expected).lower()
        return actual is expected
    if isinstance(expected, (int, float)) and not isinstance(actual, bool):
        number = _number(actual)
        return number is not None and number == expected
    return bool(actual == expected)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _field(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise RuleDefinitionError(f"{source}: `{key}` is missing or of the wrong type")
    return value


def _assertions(items: Any, source: str, section: str) -> tuple[Assertion, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise RuleDefinitionError(f"{source}: `{section}` must be a list of assertions")
    result = []
    for item in items:
        if not isinstance(item, dict) or not _ASSERTION_KEYS.issuperset(item):
            raise RuleDefinitionError(f"{source}: bad assertion in `{section}`: {item!r}")
        op = item.get("op")
        if op not in OPERATORS:
            raise RuleDefinitionError(f"{source}: unknown operator {op!r}; "
                                      f"use one of {', '.join(sorted(OPERATORS))}")
        if op in ("in", "not_in") and not isinstance(item.get("value"), list):
            raise RuleDefinitionError(f"{source}: `{op}` needs a list value")
        if op in ("at_least", "at_most") and not isinstance(item.get("value"), (int, float)):
            raise RuleDefinitionError(f"{source}: `{op}` needs a number")
        path = _field(item, "path", str, source)
        _compile(path)  # fail at load time on a bad path, not in the middle of a scan
        result.append(Assertion(path, op, item.get("value"), bool(item.get("if_absent", False)),
                                item.get("message")))
    return tuple(result)


def load_yaml_rule(data: Any, source: str) -> Rule:
    if not isinstance(data, dict):
        raise RuleDefinitionError(f"{source}: a YAML rule is a mapping")
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise RuleDefinitionError(f"{source}: unknown keys {', '.join(sorted(unknown))}")
    name = _field(data, "name", str, source)
    if not NAME_PATTERN.match(name):
        raise RuleDefinitionError(f"{source}: name {name!r} is not kebab-case")
    try:
        severity = Severity(_field(data, "severity", str, source))
    except ValueError:
        raise RuleDefinitionError(f"{source}: severity is error, warning or info") from None
    types = _field(data, "resource_types", list, source)
    if len(types) != 1 or not isinstance(types[0], str):
        raise RuleDefinitionError(f"{source}: a YAML rule checks exactly one resource type")
    applies = _assertions(data.get("applies_when"), source, "applies_when")
    require = _assertions(data.get("require"), source, "require")
    if not require:
        raise RuleDefinitionError(f"{source}: `require` needs at least one assertion")
    message = _field(data, "message", str, source)
    check = _DeclarativeCheck(types[0], applies, require, message)
    return Rule(code=_field(data, "code", str, source), name=name, severity=severity,
                category=_field(data, "category", str, source),
                docs=_field(data, "docs", str, source).strip(), check=check,
                resource_types=(types[0],),
                options=MappingProxyType(dict(data.get("options") or {})),
                security=bool(data.get("security", False)), source=source)


# ------------------------------------------------------------------------------ evaluation

_compiled: dict[str, Any] = {}


def _compile(path: str) -> Any:
    expression = _compiled.get(path)
    if expression is None:
        from jsonpath_ng.ext.parser import parse

        try:
            expression = parse(path)
        except Exception as exc:  # the ply-based parser raises plain Exception on some input
            raise RuleDefinitionError(f"bad jsonpath {path!r}: {exc}") from None
        _compiled[path] = expression
    return expression


def _path_tuple(full_path: Any) -> tuple[str | int, ...]:
    from jsonpath_ng import Child, Fields, Index, Root, This

    if isinstance(full_path, Child):
        return _path_tuple(full_path.left) + _path_tuple(full_path.right)
    if isinstance(full_path, Fields):
        return tuple(full_path.fields[:1])
    if isinstance(full_path, Index):
        # jsonpath-ng 1.6 has `indices`; older releases `index`.
        indices = getattr(full_path, "indices", None) or (getattr(full_path, "index", 0),)
        return (indices[0],)
    if isinstance(full_path, (Root, This)):
        return ()
    return (str(full_path),)


@dataclass(frozen=True)
class _DeclarativeCheck:
    resource_type: str
    applies_when: tuple[Assertion, ...]
    require: tuple[Assertion, ...]
    message: str

    def __call__(self, ctx: Context) -> Iterator[Violation]:
        for resource in ctx.resources(self.resource_type):
            yield from ctx.each_variant(resource, partial(self._check, ctx, resource))

    def _check(self, ctx: Context, resource: Resource, variant: Variant) -> Iterator[Violation]:
        results = [self._passes(ctx, a, variant) for a in self.applies_when]
        if any(r is False for r in results):
            return
        unknown = next((r for r in results if isinstance(r, Unresolved)), None)
        if unknown is not None:
            yield Violation(f"`{resource.logical_id}`: cannot tell whether the rule applies "
                            f"because {unknown.reason}", resource.path, key="applies_when")
            return
        yield from self._violations(ctx, resource, variant)

    def _matches(self, ctx: Context, assertion: Assertion, variant: Variant
                 ) -> list[tuple[tuple[str | int, ...], Any]]:
        found = _compile(assertion.path).find(dict(variant.properties))
        return [(_path_tuple(m.full_path), ctx.resolve(m.value, variant.scenario)) for m in found]

    def _passes(self, ctx: Context, assertion: Assertion, variant: Variant) -> bool | Unresolved:
        matches = self._matches(ctx, assertion, variant)
        if not matches:
            return assertion.if_absent or assertion.op == "absent"
        for _, actual in matches:
            if isinstance(actual, Unresolved):
                return actual
            if not assertion.holds(actual):
                return False
        return True

    def _violations(self, ctx: Context, resource: Resource, variant: Variant
                    ) -> Iterator[Violation]:
        base = resource.at("Properties")
        for assertion in self.require:
            matches = self._matches(ctx, assertion, variant)
            template = assertion.message or self.message
            fields = {"resource": resource.logical_id, "path": assertion.path, "when": ""}
            if not matches:
                if not (assertion.if_absent or assertion.op == "absent"):
                    yield Violation(template.format(actual="absent", **fields),
                                    resource.path, key=assertion.path)
                continue
            for relative, actual in matches:
                if isinstance(actual, Unresolved):
                    yield Violation(
                        f"`{resource.logical_id}`: `{assertion.path}` cannot be checked "
                        f"because {actual.reason}", (*base, *relative), key=assertion.path)
                elif not assertion.holds(actual):
                    yield Violation(template.format(actual=_show(actual), **fields),
                                    (*base, *relative), key=assertion.path)


def _show(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
