"""The template model: frozen views over decoded data, with locations for any path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

from cfnaudit.decode import Decoded, Marks, Path

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """1-based lines and columns; `end_column` is the column just past the end (as in SARIF)."""

    line: int
    column: int
    end_line: int
    end_column: int


FILE_START = Location(1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: str
    default: Any
    allowed_values: tuple[Any, ...]
    no_echo: bool
    has_value: bool
    overridden: bool
    value: Any  # the override, else the default; meaningful only when has_value
    raw: Mapping[str, Any]

    @property
    def path(self) -> Path:
        return ("Parameters", self.name)

    @property
    def is_list(self) -> bool:
        """`CommaDelimitedList`, `List<...>` and the SSM parameter types over them: a `Ref`
        to such a parameter is a list, not the comma-separated text it is written as."""
        return is_list_type(self.type)


def is_list_type(type_name: str) -> bool:
    inner = type_name.strip()
    if inner.startswith("AWS::SSM::Parameter::Value<") and inner.endswith(">"):
        inner = inner[len("AWS::SSM::Parameter::Value<"):-1].strip()
    return inner == "CommaDelimitedList" or inner.startswith("List<")


@dataclass(frozen=True, slots=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    metadata: Mapping[str, Any]
    condition: str | None
    depends_on: tuple[str, ...]
    deletion_policy: Any
    update_replace_policy: Any
    raw: Mapping[str, Any]

    @property
    def path(self) -> Path:
        return ("Resources", self.logical_id)

    def at(self, *keys: str | int) -> Path:
        """Absolute path of a key below this resource, e.g. `r.at("Properties", "Tags")`."""
        return ("Resources", self.logical_id, *keys)

    def prop(self, name: str, default: Any = None) -> Any:
        return self.properties.get(name, default)


@dataclass(frozen=True, slots=True)
class Output:
    name: str
    value: Any
    export: Any
    condition: str | None
    raw: Mapping[str, Any]

    @property
    def path(self) -> Path:
        return ("Outputs", self.name)


@dataclass(frozen=True, slots=True)
class StructureError:
    """A part of the template CloudFormation would reject; reported as a template error."""

    message: str
    path: Path


@dataclass(frozen=True)
class Template:
    file: str
    data: Mapping[str, Any]
    marks: Marks = field(repr=False)
    text: str = field(repr=False)
    parameters: Mapping[str, Parameter]
    conditions: Mapping[str, Any]
    mappings: Mapping[str, Any]
    resources: Mapping[str, Resource]
    outputs: Mapping[str, Output]
    metadata: Mapping[str, Any]
    transform: tuple[str, ...]
    errors: tuple[StructureError, ...]
    _by_type: Mapping[str, tuple[Resource, ...]] = field(repr=False)

    def of_type(self, *types: str) -> Iterator[Resource]:
        """Resources of the given types, in template order within each type."""
        for type_name in types:
            yield from self._by_type.get(type_name, ())

    def location(self, path: Path) -> Location:
        """The key's line for a key path, the value's span otherwise; the nearest ancestor when
        the path does not exist (a missing property points at its parent)."""
        marks = self.marks
        probe = path
        while True:
            key = marks.key(probe)
            value = marks.value(probe)
            if key is not None:
                end = value if value is not None and value[0] == key[0] else key
                return Location(key[0] + 1, key[1] + 1, end[2] + 1, end[3] + 1)
            if value is not None:
                return Location(value[0] + 1, value[1] + 1, value[2] + 1, value[3] + 1)
            if not probe:
                return FILE_START
            probe = probe[:-1]

    def line_text(self, line: int) -> str:
        lines = self._lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    @cached_property
    def _lines(self) -> list[str]:
        # Split once: every finding asks for its line, and splitting per finding made a scan
        # quadratic in the size of the template.
        return self.text.splitlines()


FOR_EACH_TRANSFORM = "AWS::LanguageExtensions"


class NotATemplate(Exception):
    """Valid YAML/JSON that is not a CloudFormation template: skipped quietly."""


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else EMPTY


def is_template(data: Mapping[str, Any]) -> bool:
    if "AWSTemplateFormatVersion" in data:
        return True
    resources = data.get("Resources")
    if isinstance(resources, dict):
        # An entry with `Properties` but no `Type` is a template with a broken resource (a
        # template error), not some other tool's YAML.
        return any(isinstance(r, dict) and ("Type" in r or "Properties" in r)
                   for r in resources.values())
    return "Resources" in data


def build_template(decoded: Decoded, file: str,
                   overrides: Mapping[str, Any] = EMPTY) -> Template:
    data = decoded.data
    if not is_template(data):
        raise NotATemplate(file)
    errors: list[StructureError] = []
    transform = data.get("Transform")
    transforms = (transform,) if isinstance(transform, str) else tuple(
        t for t in transform if isinstance(t, str)) if isinstance(transform, list) else ()

    def section(name: str) -> Mapping[str, Any]:
        value = data.get(name)
        if value is None:
            return EMPTY
        if not isinstance(value, dict):
            errors.append(StructureError(f"`{name}` must be a mapping", (name,)))
            return EMPTY
        if FOR_EACH_TRANSFORM in transforms:
            # Fn::ForEach entries expand at deployment into entries we cannot see here.
            return {k: v for k, v in value.items() if not k.startswith("Fn::ForEach::")}
        return value

    parameters = {}
    for name, raw in section("Parameters").items():
        if not isinstance(raw, dict):
            errors.append(StructureError(f"parameter `{name}` must be a mapping",
                                         ("Parameters", name)))
            continue
        parameters[name] = _parameter(name, raw, overrides, errors)

    conditions = dict(section("Conditions"))
    for name, definition in conditions.items():
        if not (isinstance(definition, dict) and len(definition) == 1):
            # Kept (references to it stay defined); a non-function evaluates as false.
            errors.append(StructureError(f"condition `{name}` must be a condition function",
                                         ("Conditions", name)))
    mappings = {}
    for name, entry in section("Mappings").items():
        if isinstance(entry, dict) and all(isinstance(v, dict) for v in entry.values()):
            mappings[name] = entry
            continue
        bad = next((k for k, v in entry.items() if not isinstance(v, dict)), None) \
            if isinstance(entry, dict) else None
        errors.append(StructureError(
            f"mapping `{name}` must be a mapping of mappings", ("Mappings", name)
            if bad is None else ("Mappings", name, bad)))

    resources: dict[str, Resource] = {}
    by_type: dict[str, list[Resource]] = {}
    for logical_id, raw in section("Resources").items():
        resource = _resource(logical_id, raw, errors)
        if resource is not None:
            resources[logical_id] = resource
            by_type.setdefault(resource.type, []).append(resource)
    if "Resources" in data and not resources and not errors and not transforms:
        errors.append(StructureError("`Resources` has no resources", ("Resources",)))

    outputs = {}
    for name, raw in section("Outputs").items():
        if not isinstance(raw, dict):
            errors.append(StructureError(f"output `{name}` must be a mapping", ("Outputs", name)))
            continue
        outputs[name] = _output(name, raw, errors)

    return Template(
        file=file, data=data, marks=decoded.marks, text=decoded.text,
        parameters=MappingProxyType(parameters),
        conditions=conditions, mappings=mappings,
        resources=MappingProxyType(resources), outputs=MappingProxyType(outputs),
        metadata=section("Metadata"), transform=transforms, errors=tuple(errors),
        _by_type=MappingProxyType({k: tuple(v) for k, v in by_type.items()}),
    )


LIST_PARAMETER_TYPES = ("CommaDelimitedList", "List<")


def _parameter(name: str, raw: Mapping[str, Any], overrides: Mapping[str, Any],
               errors: list[StructureError]) -> Parameter:
    path = ("Parameters", name)
    type_name = raw.get("Type")
    if not isinstance(type_name, str):
        errors.append(StructureError(f"parameter `{name}` must have a `Type` name",
                                     (*path, "Type") if "Type" in raw else path))
        type_name = ""
    is_list = type_name.startswith(LIST_PARAMETER_TYPES)
    has_default = "Default" in raw
    default = raw.get("Default")
    if has_default and not (_is_scalar(default) or (
            is_list and isinstance(default, list) and all(map(_is_scalar, default)))):
        errors.append(StructureError(
            f"`Default` of parameter `{name}` must be "
            + ("a value or a list of values" if is_list else "a single value"),
            (*path, "Default")))
        has_default, default = False, None
    allowed = raw.get("AllowedValues")
    if allowed is not None and not (isinstance(allowed, list) and all(map(_is_scalar, allowed))):
        errors.append(StructureError(
            f"`AllowedValues` of parameter `{name}` must be a list of values",
            (*path, "AllowedValues")))
        allowed = None
    no_echo = raw.get("NoEcho")
    has_override = name in overrides
    return Parameter(
        name=name,
        type=type_name,
        default=default,
        allowed_values=tuple(allowed) if isinstance(allowed, list) else (),
        no_echo=no_echo is True or (isinstance(no_echo, str) and no_echo.lower() == "true"),
        has_value=has_override or has_default,
        overridden=has_override,
        value=overrides[name] if has_override else default,
        raw=raw,
    )


def _is_scalar(value: Any) -> bool:
    """Text, a number or a boolean: what a parameter value can be (null is not)."""
    return isinstance(value, (str, int, float)) and not (
        isinstance(value, float) and value != value)  # NaN is no value


def _output(name: str, raw: Mapping[str, Any], errors: list[StructureError]) -> Output:
    path = ("Outputs", name)
    value = raw.get("Value")
    if "Value" not in raw:
        errors.append(StructureError(f"output `{name}` has no `Value`", path))
    elif isinstance(value, list) or value is None or (
            isinstance(value, dict) and not _is_intrinsic(value)):
        errors.append(StructureError(f"`Value` of output `{name}` must be a value, not "
                                     + ("a list" if isinstance(value, list) else
                                        "null" if value is None else "a mapping"),
                                     (*path, "Value")))
        value = None
    export = raw.get("Export")
    if export is not None:
        export_name = export.get("Name") if isinstance(export, dict) else None
        if export_name is None or isinstance(export_name, list) or (
                isinstance(export_name, dict) and not _is_intrinsic(export_name)):
            errors.append(StructureError(f"`Export` of output `{name}` must be a mapping with "
                                         "a `Name`", (*path, "Export")))
            export = None
    condition = raw.get("Condition")
    if condition is not None and not isinstance(condition, str):
        errors.append(StructureError(f"`Condition` of output `{name}` must be a condition "
                                     "name", (*path, "Condition")))
        condition = None
    return Output(name, value, export, condition, raw)


def _resource(logical_id: str, raw: Any, errors: list[StructureError]) -> Resource | None:
    path: Path = ("Resources", logical_id)
    if not isinstance(raw, dict):
        errors.append(StructureError(f"resource `{logical_id}` must be a mapping", path))
        return None
    type_name = raw.get("Type")
    if type_name is None:
        errors.append(StructureError(f"resource `{logical_id}` has no `Type`", path))
        return None
    if not isinstance(type_name, str) or not type_name:
        errors.append(StructureError(f"`Type` of `{logical_id}` must be a resource type name",
                                     (*path, "Type")))
        return None

    def wrong(attribute: str, expected: str) -> None:
        errors.append(StructureError(f"`{attribute}` of `{logical_id}` must be {expected}",
                                     (*path, attribute)))

    properties = raw.get("Properties")
    if properties is not None and not _is_properties(properties):
        if not _is_malformed_if(properties):  # that one is reported with the intrinsics
            wrong("Properties", "a mapping")
        properties = None
    elif properties is not None:
        properties = _absent_as_empty(properties)
    depends = raw.get("DependsOn")
    if isinstance(depends, str):
        depends_on: tuple[str, ...] = (depends,)
    elif isinstance(depends, list) and all(isinstance(d, str) for d in depends):
        depends_on = tuple(depends)
    else:
        depends_on = ()
        if depends is not None:
            wrong("DependsOn", "a name or a list of names")
    condition = raw.get("Condition")
    if condition is not None and not isinstance(condition, str):
        wrong("Condition", "a condition name")
        condition = None
    for attribute in _MAPPING_ATTRIBUTES:
        if attribute in raw and not isinstance(raw[attribute], dict):
            wrong(attribute, "a mapping")
    policies = {}
    for attribute in _POLICY_ATTRIBUTES:
        policy = raw.get(attribute)
        if policy is not None and not (isinstance(policy, str) or _is_intrinsic(policy)):
            wrong(attribute, "a policy name")
            policy = None
        policies[attribute] = policy
    return Resource(
        logical_id=logical_id,
        type=type_name,
        properties=properties or EMPTY,
        metadata=_mapping(raw.get("Metadata")),
        condition=condition,
        depends_on=depends_on,
        deletion_policy=policies["DeletionPolicy"],
        update_replace_policy=policies["UpdateReplacePolicy"],
        raw=raw,
    )


_MAPPING_ATTRIBUTES = ("Metadata", "CreationPolicy", "UpdatePolicy")
_POLICY_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")


def _is_intrinsic(value: Any) -> bool:
    """A one-key mapping naming an intrinsic function (`Ref`, `Fn::...`)."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def _absent_as_empty(properties: dict[str, Any]) -> dict[str, Any]:
    """An `Fn::If` over the whole `Properties` with AWS::NoValue branches made `{}` (no
    properties): every scenario then sees a mapping, as rules expect."""
    if set(properties) != {"Fn::If"}:
        return properties
    condition, *branches = properties["Fn::If"]
    return {"Fn::If": [condition, *(
        {} if _is_no_value(b) else _absent_as_empty(b) for b in branches)]}


def _is_malformed_if(value: Any) -> bool:
    arg = value.get("Fn::If") if isinstance(value, dict) and len(value) == 1 else None
    return arg is not None and not (isinstance(arg, list) and len(arg) == 3
                                    and isinstance(arg[0], str))


def _is_no_value(value: Any) -> bool:
    return isinstance(value, dict) and value == {"Ref": "AWS::NoValue"}


def _is_properties(value: Any) -> bool:
    """A mapping, or an `Fn::If` whose branches are (nested ifs of) mappings or AWS::NoValue:
    CloudFormation accepts `Properties: !If [Cond, {...}, !Ref AWS::NoValue]`."""
    stack = [value]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            return False
        if len(node) != 1:
            continue
        (key, arg), = node.items()
        if key == "Fn::If":
            if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
                return False
            stack.extend(arg[1:])
        elif key == "Ref" and arg != "AWS::NoValue":
            return False
    return True
