"""Typed reads: a template value in the type a rule expects, or `Unresolved` saying why not.

Rules never feed a raw template value to `int()`, a set or `.get`: a template may hold a list
where a port belongs, `.inf` where a count belongs or `AWS::NoValue` where a mapping belongs.
Each reader resolves intrinsics (through `resolve`, in one scenario) and then either returns the
value in its type, or `None` / an empty container when it is absent (missing, null or
AWS::NoValue), or an `Unresolved` whose reason names the value: "`FromPort` is a list".

CloudFormation's own conversions apply: "7" is the number 7, the number 7 where text is expected
is "7", and "true"/"false" in any case are booleans. Booleans are not numbers, and infinities,
NaN, fractions where a whole number is expected and integers beyond 64 bits are rejected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import NO_CONDITIONS, NO_VALUE, Scenario, Unresolved, branch, resolve

if TYPE_CHECKING:
    from cfnaudit.template import Template

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})
LARGEST = 2**63 - 1  # CloudFormation numbers are 64-bit at most
_MAX_DIGITS = 40  # longer numeric text is rejected before conversion (no quadratic int())


def shape(value: Any) -> str:
    """What a value is, for messages: "a list", "a mapping", "a boolean", "text"..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "not a finite number" if not math.isfinite(value) else "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return "null" if value is None else type(value).__name__


def _absent(value: Any) -> bool:
    return value is None or value is NO_VALUE


def _resolved(value: Any, template: Template, scenario: Scenario) -> Any:
    return resolve(value, template, scenario)


def whole_number(value: Any, what: str = "the value") -> int | Unresolved | None:
    """An already resolved value as a whole number (see `read_int`)."""
    if isinstance(value, Unresolved):
        return value
    if _absent(value):
        return None
    if isinstance(value, bool):
        return Unresolved(f"`{what}` is a boolean, not a number")
    if isinstance(value, str):
        text = value.strip()
        shown = f"`{what}` is `{text}`, not a number" if len(text) <= _MAX_DIGITS \
            else f"`{what}` is not a number"
        if len(text) > _MAX_DIGITS or "_" in text:  # Python reads "1_000"; CloudFormation not
            return Unresolved(shown)
        try:
            value = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return Unresolved(shown)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Unresolved(f"`{what}` is not a finite number")
        if not value.is_integer():
            return Unresolved(f"`{what}` is not a whole number")
        value = int(value)
    if isinstance(value, int):
        if abs(value) > LARGEST:
            return Unresolved(f"`{what}` is out of range")
        return value
    return Unresolved(f"`{what}` is {shape(value)}, not a number")


def text_of(value: Any, what: str = "the value") -> str | Unresolved | None:
    """An already resolved value as text (see `read_text`)."""
    if isinstance(value, Unresolved):
        return value
    if _absent(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= LARGEST else Unresolved(f"`{what}` is out of range")
    if isinstance(value, float) and math.isfinite(value):
        return str(value)  # as written: `GlueVersion: 4.0` is "4.0"
    return Unresolved(f"`{what}` is {shape(value)}, not text")


def truth_of(value: Any, what: str = "the value") -> bool | Unresolved | None:
    """An already resolved value as a CloudFormation boolean (see `read_bool`)."""
    if isinstance(value, Unresolved):
        return value
    if _absent(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return Unresolved(f"`{what}` is {shape(value)}, not a boolean")


def read_int(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS,
             what: str = "the value") -> int | Unresolved | None:
    """A whole number: ints, numeric text ("7", " 8 ") and floats without a fraction; None
    when absent; `Unresolved` for booleans, fractions, infinities, NaN, numbers beyond 64 bits,
    other text, lists and mappings."""
    return whole_number(_resolved(value, template, scenario), what)


def read_text(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS,
              what: str = "the value") -> str | Unresolved | None:
    """Text: strings, and numbers and booleans as CloudFormation turns them into text
    (7 → "7", true → "true"); None when absent; `Unresolved` for lists and mappings."""
    return text_of(_resolved(value, template, scenario), what)


def read_bool(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS,
              what: str = "the value") -> bool | Unresolved | None:
    """A CloudFormation boolean: true/false or "true"/"false" in any case; None when absent;
    `Unresolved` for anything else."""
    return truth_of(_resolved(value, template, scenario), what)


def read_list(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS,
              what: str = "the value") -> list[Any] | Unresolved:
    """A list with the `scenario`'s Fn::If branches chosen and AWS::NoValue items dropped
    (items are not resolved further: read them with the other readers); empty when absent.
    A `Ref` to a list parameter resolves to its items (see `resolve`). A scalar or mapping
    where a list belongs is `Unresolved`."""
    resolved = _resolved(value, template, scenario)
    if isinstance(resolved, Unresolved):
        return resolved
    if _absent(resolved):
        return []
    if isinstance(resolved, list):
        chosen = branch(resolved, scenario)
        return list(chosen) if isinstance(chosen, list) else []
    return Unresolved(f"`{what}` is {shape(resolved)}, not a list")


def read_mapping(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS,
                 what: str = "the value") -> Mapping[str, Any] | Unresolved:
    """A mapping with the `scenario`'s Fn::If branches chosen and AWS::NoValue entries dropped;
    empty when absent; `Unresolved` for a list or scalar."""
    resolved = _resolved(value, template, scenario)
    if isinstance(resolved, Unresolved):
        return resolved
    if _absent(resolved):
        return EMPTY_MAPPING
    if isinstance(resolved, Mapping):
        chosen = branch(resolved, scenario)
        return chosen if isinstance(chosen, Mapping) else EMPTY_MAPPING
    return Unresolved(f"`{what}` is {shape(resolved)}, not a mapping")


def mapping_or_empty(value: Any) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one: for optional parts a rule only looks
    into (a wrong shape there is reported elsewhere or means there is nothing to check)."""
    return value if isinstance(value, Mapping) else EMPTY_MAPPING


def list_or_empty(value: Any) -> list[Any]:
    """`value` when it is a list, else an empty list (see `mapping_or_empty`)."""
    return value if isinstance(value, list) else []
