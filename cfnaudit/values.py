"""Reading resolved property values the way CloudFormation does: "true" is true, "7" is 7.

Pure helpers over values already passed through `resolve`; rules reach them through
`cfnaudit.rule` (and `Context.truth` / `Context.literal` / `Context.skeleton`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import NO_CONDITIONS, Scenario, Unresolved, resolve, sub_variables

if TYPE_CHECKING:
    from cfnaudit.template import Template


def is_true(value: Any) -> bool:
    """CloudFormation booleans: `true` or the string "true" in any case."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def as_int(value: Any) -> int | Unresolved | None:
    """A whole number from an int or numeric string; None and `Unresolved` pass through; other
    text becomes `Unresolved` saying it is not a whole number."""
    if value is None or isinstance(value, Unresolved):
        return value
    if isinstance(value, bool):
        return Unresolved(f"`{value}` is not a whole number")
    try:
        return int(str(value).strip())
    except ValueError:
        return Unresolved(f"`{value}` is not a whole number")


def literal(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS) -> str | None:
    """The resolved value as text when it is a string or number, else None."""
    resolved = resolve(value, template, scenario)
    if isinstance(resolved, (str, int, float)) and not isinstance(resolved, bool):
        return str(resolved)
    return None


def skeleton(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS) -> str | None:
    """A string value with the parts known only at deployment replaced by `*`: enough to see
    `alias/aws/` or `:sns:` in an ARN built with Fn::Sub or Fn::Join. None when the value is
    not a string expression at all."""
    resolved = resolve(value, template, scenario)
    if isinstance(resolved, str):
        return resolved
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    (name, arg), = value.items()
    if name == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        if not isinstance(text, str):
            return None
        local = arg[1] if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], Mapping) \
            else {}
        for variable in set(sub_variables(text)):
            known = (resolve(local[variable], template, scenario) if variable in local
                     else resolve({"Ref": variable}, template, scenario) if "." not in variable
                     else None)
            text = text.replace("${" + variable + "}", _part(known))
        return text
    if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
            and isinstance(arg[0], str) and isinstance(arg[1], list):
        return arg[0].join(_part(resolve(item, template, scenario)) for item in arg[1])
    return None


def _part(value: Any) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return "*"
