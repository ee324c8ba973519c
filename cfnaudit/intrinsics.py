"""Reading values through CloudFormation intrinsic functions.

Three jobs, all pure:
- `find_references` walks a value once and yields every reference (Ref, GetAtt, Sub, Condition)
  with its path, plus malformed intrinsics; the graph is built from it.
- `Scenarios` enumerates the condition outcomes a value depends on, derived from parameter values
  so that only consistent combinations appear, under a fixed budget.
- `branch` picks the Fn::If branches of one scenario and drops AWS::NoValue; `resolve` reduces a
  value to a literal through parameters, mappings, Join, Select, Sub, Cidr and If.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfnaudit.decode import Path
    from cfnaudit.template import Template

DEFAULT_SCENARIO_BUDGET = 64

PSEUDO_PARAMETERS = frozenset({
    "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
    "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
})

# An absent value (AWS::NoValue, or an If branch that removes the key).
class _NoValue:
    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value cannot be known before deployment. `reason` reads after "because": it names what
    is unknown, e.g. "parameter `Env` has no default"."""

    reason: str
    expression: Any = field(default=None, compare=False)  # may be a dict: not hashed

    def __bool__(self) -> bool:
        return False


# ------------------------------------------------------------------------------ references


@dataclass(frozen=True, slots=True)
class Reference:
    kind: str  # Ref | GetAtt | Sub | Condition
    target: str
    attribute: str | None
    path: Path


@dataclass(frozen=True, slots=True)
class Malformed:
    message: str
    path: Path


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def sub_variables(text: str) -> Iterator[str]:
    """Variable names in a Fn::Sub string; `${!Literal}` escapes are skipped."""
    for match in _SUB_VARIABLE.finditer(text):
        name = match.group(1).strip()
        if name and not name.startswith("!"):
            yield name


def find_references(value: Any, path: Path) -> Iterator[Reference | Malformed]:
    """Every reference inside `value` (iterative: depth was bounded by the decoder)."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*where, i)) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                yield from _intrinsic(key, arg, where, stack)
                continue
        stack.extend((item, (*where, key)) for key, item in node.items())


def referenced_names(value: Any) -> set[str]:
    """Logical ids, parameters and pseudo parameters that `value` refers to anywhere inside
    (Ref, GetAtt, Sub; a Sub's own local names excluded), without attributes."""
    return {found.target for found in find_references(value, ())
            if isinstance(found, Reference) and found.kind != "Condition"}


def _intrinsic(key: str, arg: Any, where: Path,
               stack: list[tuple[Any, Path]]) -> Iterator[Reference | Malformed]:
    inner = (*where, key)
    if key == "Ref":
        if isinstance(arg, str):
            yield Reference("Ref", arg, None, where)
        else:
            yield Malformed("`Ref` takes a logical id or parameter name", inner)
        return
    if key == "Condition":
        if isinstance(arg, str):
            yield Reference("Condition", arg, None, where)
        else:
            stack.append((arg, inner))  # a property that happens to be called Condition
        return
    if key == "Fn::GetAtt":
        target = _getatt_parts(arg)
        if target is None:
            yield Malformed("`Fn::GetAtt` takes [LogicalId, Attribute] or `LogicalId.Attribute`",
                            inner)
            stack.append((arg, inner))
        else:
            yield Reference("GetAtt", target[0], target[1], where)
            if isinstance(arg, list) and not isinstance(arg[1], str):
                stack.append((arg[1], (*inner, 1)))
        return
    if key == "Fn::Sub":
        yield from _sub(arg, where, inner, stack)
        return
    if key == "Fn::If":
        if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
            yield Malformed("`Fn::If` takes [ConditionName, ValueIfTrue, ValueIfFalse]", inner)
            stack.append((arg, inner))
            return
        yield Reference("Condition", arg[0], None, (*inner, 0))
        stack.append((arg[1], (*inner, 1)))
        stack.append((arg[2], (*inner, 2)))
        return
    arity = _ARITY.get(key)
    if arity is not None and not (isinstance(arg, list) and len(arg) in arity):
        counts = " or ".join(str(n) for n in sorted(arity))
        yield Malformed(f"`{key}` takes a list of {counts} items", inner)
    stack.append((arg, inner))


_ARITY: dict[str, frozenset[int]] = {
    "Fn::Join": frozenset({2}),
    "Fn::Select": frozenset({2}),
    "Fn::Split": frozenset({2}),
    "Fn::FindInMap": frozenset({3, 4}),
    "Fn::Cidr": frozenset({3}),
    "Fn::Equals": frozenset({2}),
}


def _getatt_parts(arg: Any) -> tuple[str, str] | None:
    if isinstance(arg, str):
        resource, dot, attribute = arg.partition(".")
        return (resource, attribute) if dot and resource and attribute else None
    if (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
            and isinstance(arg[1], (str, dict))):
        return arg[0], arg[1] if isinstance(arg[1], str) else ""
    return None


def _sub(arg: Any, where: Path, inner: Path,
         stack: list[tuple[Any, Path]]) -> Iterator[Reference | Malformed]:
    local: Mapping[str, Any] = {}
    if isinstance(arg, list):
        if len(arg) != 2 or not isinstance(arg[0], str) or not isinstance(arg[1], dict):
            yield Malformed("`Fn::Sub` takes a string or [String, {Name: Value}]", inner)
            stack.append((arg, inner))
            return
        text, local = arg[0], arg[1]
        stack.extend((v, (*inner, 1, k)) for k, v in local.items())
    elif isinstance(arg, str):
        text = arg
    else:
        yield Malformed("`Fn::Sub` takes a string or [String, {Name: Value}]", inner)
        stack.append((arg, inner))
        return
    for name in sub_variables(text):
        if name in local:
            continue
        target, dot, attribute = name.partition(".")
        yield Reference("Sub", target, attribute if dot else None, where)


# ------------------------------------------------------------------------------- scenarios

Scenario = tuple[tuple[str, bool], ...]  # sorted (condition, outcome) pairs
NO_CONDITIONS: Scenario = ()


def describe(scenario: Scenario) -> str:
    """`when IsProd is true and HasVpc is false` (empty for the unconditional case)."""
    if not scenario:
        return ""
    parts = [f"{name} is {'true' if value else 'false'}" for name, value in scenario]
    return "when " + " and ".join(parts)


def proves_nonempty(name: str, template: Template, scenario: Scenario) -> bool:
    """The scenario's conditions show that parameter `name` is not empty: `CreateTopic` false
    where `CreateTopic` is `Fn::Equals [!Ref TopicArn, ""]` means a topic ARN was given.
    (`Equals` with "" false, `Not` of it true, `Equals` with a non-empty literal true, through
    `And`, `Or` and nested `Condition`s.)"""
    return any(_nonempty_when(template.conditions.get(c), name, outcome, template, 0)
               for c, outcome in scenario)


def _nonempty_when(expr: Any, name: str, outcome: bool, template: Template,
                   depth: int) -> bool:
    if depth > 16 or not isinstance(expr, dict) or len(expr) != 1:
        return False
    (key, arg), = expr.items()
    if key == "Condition" and isinstance(arg, str):
        return _nonempty_when(template.conditions.get(arg), name, outcome, template, depth + 1)
    if not isinstance(arg, list):
        return False
    if key == "Fn::Equals" and len(arg) == 2:
        for side, other in ((arg[0], arg[1]), (arg[1], arg[0])):
            if side == {"Ref": name} and isinstance(other, (str, int, float)):
                return (str(other) == "") is not outcome
        return False
    if key == "Fn::Not" and len(arg) == 1:
        return _nonempty_when(arg[0], name, not outcome, template, depth + 1)
    if (key == "Fn::And" and outcome) or (key == "Fn::Or" and not outcome):
        return any(_nonempty_when(item, name, outcome, template, depth + 1) for item in arg)
    return False


def conditions_in(value: Any) -> set[str]:
    """Names of the conditions used by Fn::If anywhere inside `value`."""
    return {ref.target for ref in find_references(value, ())
            if isinstance(ref, Reference) and ref.kind == "Condition"}


_OTHER = object()  # a parameter value that equals none of the literals it is compared with


class Scenarios:
    """Consistent outcomes of a template's conditions, enumerated from parameter values.

    Each `Fn::Equals` between a parameter and a literal makes that parameter a variable whose
    values are the literals it is compared with plus "anything else"; any other Equals is a free
    boolean. Scenarios are the distinct condition outcomes over the product of those values, cut
    at `budget` combinations (then `truncated` says which set was cut short).
    """

    def __init__(self, template: Template, budget: int = DEFAULT_SCENARIO_BUDGET) -> None:
        self.template = template
        self.budget = budget
        self._cache: dict[frozenset[str], tuple[tuple[Scenario, ...], bool]] = {}

    def enumerate(self, names: set[str] | frozenset[str], required: str | None = None
                  ) -> tuple[tuple[Scenario, ...], bool]:
        """Scenarios over `names`; with `required`, only those where that condition holds
        (a conditional resource exists only then). Returns (scenarios, truncated)."""
        wanted = frozenset(names) | ({required} if required else frozenset())
        if not wanted:
            return (NO_CONDITIONS,), False
        cached = self._cache.get(wanted)
        if cached is None:
            cached = self._compute(sorted(wanted))
            self._cache[wanted] = cached
        scenarios, truncated = cached
        if required:
            kept = (s for s in scenarios if dict(s)[required])
            if required not in names:  # implied by the resource's existence: not worth saying
                kept = (tuple(pair for pair in s if pair[0] != required) for s in kept)
            scenarios = tuple(dict.fromkeys(kept))
        return scenarios, truncated

    def _compute(self, names: list[str]) -> tuple[tuple[Scenario, ...], bool]:
        conditions = self.template.conditions
        known = [n for n in names if n in conditions]
        variables: dict[str, list[Any]] = {}
        self._collect(known, variables)
        domains = [[(var, v) for v in values] for var, values in sorted(variables.items())]
        total = 1
        for domain in domains:
            total *= len(domain)
        order = self._dependency_order(known)
        seen: dict[Scenario, None] = {}
        for combination in itertools.islice(itertools.product(*domains), self.budget):
            assignment = dict(combination)
            outcomes: dict[str, bool] = {}
            for name in order:  # a condition's references are evaluated before it
                outcomes[name] = self._evaluate(conditions[name], assignment, outcomes)
            seen.setdefault(tuple((n, outcomes[n]) for n in known), None)
        unknown = [n for n in names if n not in conditions]
        scenarios: list[Scenario] = []
        for outcome in seen:
            # Conditions that do not exist cannot be evaluated: both outcomes are possible.
            for flags in itertools.product((True, False), repeat=len(unknown)):
                scenarios.append(tuple(sorted((*outcome, *zip(unknown, flags, strict=True)))))
        return tuple(scenarios), total > self.budget

    # Conditions may refer to conditions (`Condition: Other`) in chains of any length: these
    # walks are iterative so that a long chain cannot exhaust the interpreter's stack. Within
    # one condition, nesting is bounded by the decoder's depth limit.

    def _references(self, name: str) -> list[str]:
        """Defined conditions that condition `name` refers to, in order of appearance."""
        found: list[str] = []
        stack = [self.template.conditions[name]]
        while stack:
            expr = stack.pop()
            if isinstance(expr, list):
                stack.extend(reversed(expr))
            elif isinstance(expr, dict) and len(expr) == 1:
                (key, arg), = expr.items()
                if key == "Condition" and isinstance(arg, str):
                    if arg in self.template.conditions:
                        found.append(arg)
                elif key in ("Fn::And", "Fn::Or", "Fn::Not"):
                    stack.append(arg)
        return found

    def _dependency_order(self, roots: list[str]) -> list[str]:
        """`roots` and every condition they reach, each after the conditions it refers to.
        On a reference cycle (a template error, reported by the graph) the back reference
        reads as false."""
        order: list[str] = []
        state: dict[str, bool] = {}  # False while on the path, True when placed
        for root in roots:
            if root in state:
                continue
            state[root] = False
            path = [(root, iter(self._references(root)))]
            while path:
                name, pending = path[-1]
                for reference in pending:
                    if reference not in state:
                        state[reference] = False
                        path.append((reference, iter(self._references(reference))))
                        break
                else:
                    path.pop()
                    state[name] = True
                    order.append(name)
        return order

    def _collect(self, roots: list[str], variables: dict[str, list[Any]]) -> None:
        """The variables (and their candidate values) of every Fn::Equals reachable from
        `roots`, in the order a depth-first reading meets them."""
        conditions = self.template.conditions
        expanded: set[str] = set()
        stack: list[Any] = [conditions[n] for n in reversed(roots)]
        while stack:
            expr = stack.pop()
            if isinstance(expr, list):
                stack.extend(reversed(expr))
                continue
            if not isinstance(expr, dict) or len(expr) != 1:
                continue
            (key, arg), = expr.items()
            if key == "Condition" and isinstance(arg, str):
                if arg not in expanded and arg in conditions:
                    expanded.add(arg)
                    stack.append(conditions[arg])
            elif key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
                self._add_equality(arg, variables)
            elif key in ("Fn::And", "Fn::Or", "Fn::Not"):
                stack.append(arg)

    def _add_equality(self, arg: list[Any], variables: dict[str, list[Any]]) -> None:
        var, literal = self._equality(arg)
        values = variables.setdefault(var, [])
        if literal is _FREE:
            if not values:
                values.extend((True, False))
            return
        if literal not in values:
            values.append(literal)
        if _OTHER not in values and not self._closed_domain(var):
            values.append(_OTHER)
        for allowed in self._allowed(var):
            if allowed not in values:
                values.append(allowed)

    def _allowed(self, var: str) -> tuple[Any, ...]:
        parameter = self.template.parameters.get(var.removeprefix("param:"))
        if parameter is None or not var.startswith("param:"):
            return ()
        if parameter.name in _overrides_of(self.template):
            return ()
        return tuple(str(v) for v in parameter.allowed_values)

    def _closed_domain(self, var: str) -> bool:
        return bool(self._allowed(var)) or self._fixed(var) is not None

    def _fixed(self, var: str) -> str | None:
        """A parameter the user gave a value for has that value in every scenario."""
        name = var.removeprefix("param:")
        if var.startswith("param:") and name in _overrides_of(self.template):
            return str(self.template.parameters[name].value)
        return None

    def _equality(self, arg: list[Any]) -> tuple[str, Any]:
        left, right = arg
        for side, other in ((left, right), (right, left)):
            name = _ref_name(side)
            if name is None or not (name in self.template.parameters or name.startswith("AWS::")):
                continue
            literal = resolve(other, self.template)
            if isinstance(literal, (str, int, float, bool)):
                return f"param:{name}", _text(literal)
        return "free:" + json.dumps(arg, sort_keys=True, default=str), _FREE

    def _evaluate(self, expr: Any, assignment: Mapping[str, Any],
                  outcomes: Mapping[str, bool]) -> bool:
        """`expr` under `assignment`; referenced conditions are read from `outcomes`."""
        if isinstance(expr, bool):
            return expr
        if isinstance(expr, str):
            return expr.lower() == "true"
        if not isinstance(expr, dict) or len(expr) != 1:
            return False
        (key, arg), = expr.items()
        if key == "Condition" and isinstance(arg, str):
            return outcomes.get(arg, False)  # undefined, or a back reference on a cycle
        if key == "Fn::Not" and isinstance(arg, list) and arg:
            return not self._evaluate(arg[0], assignment, outcomes)
        if key == "Fn::And" and isinstance(arg, list):
            return all(self._evaluate(a, assignment, outcomes) for a in arg)
        if key == "Fn::Or" and isinstance(arg, list):
            return any(self._evaluate(a, assignment, outcomes) for a in arg)
        if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
            var, literal = self._equality(arg)
            value = assignment.get(var)
            if literal is _FREE:
                return bool(value)
            fixed = self._fixed(var)
            if fixed is not None:
                return bool(fixed == literal)
            return bool(value == literal)
        return False


_FREE = object()


def _overrides_of(template: Template) -> frozenset[str]:
    return frozenset(name for name, p in template.parameters.items() if p.overridden)


def _ref_name(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------- branch, resolve


def is_no_value(value: Any) -> bool:
    return value is NO_VALUE or _ref_name(value) == "AWS::NoValue"


def is_macro_output(value: Any, template: Template) -> bool:
    """A value a macro produces at deployment, so nothing in the text can be checked:
    `Fn::Transform`, or, in a template that declares a macro of its own (a `Transform` that
    AWS does not provide), a macro script (a string starting with `#!`, PyPlate's convention)
    or a placeholder naming that macro (`"!Explode Retention"`, which Explode replaces)."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::Transform" in value:
        return True
    if not isinstance(value, str):
        return False
    macros = [name for name in template.transform if not name.startswith("AWS::")]
    text = value.lstrip()
    return bool(macros) and (text.startswith("#!") or any(
        text == f"!{name}" or text.startswith(f"!{name} ") for name in macros))


def branch(value: Any, scenario: Scenario) -> Any:
    """`value` as deployed in `scenario`: Fn::If replaced by its branch, AWS::NoValue removed
    (NO_VALUE when the whole value is absent). Unchanged parts are shared, not copied."""
    outcomes = dict(scenario)
    return _branch(value, outcomes)


def _branch(value: Any, outcomes: Mapping[str, bool]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            if _ref_name(value) == "AWS::NoValue":
                return NO_VALUE
            arg = value.get("Fn::If")
            if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
                if arg[0] in outcomes:
                    return _branch(arg[1] if outcomes[arg[0]] else arg[2], outcomes)
                return value
        changed = False
        result: dict[str, Any] = {}
        for key, item in value.items():
            new = _branch(item, outcomes)
            if new is not item:
                changed = True
            if new is not NO_VALUE:
                result[key] = new
        return result if changed else value
    if isinstance(value, list):
        items = [_branch(item, outcomes) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return [item for item in items if item is not NO_VALUE]
    return value


def resolve(value: Any, template: Template, scenario: Scenario = NO_CONDITIONS) -> Any:
    """A literal for `value`, or `Unresolved`. Containers are returned as they are."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    (key, arg), = value.items()
    if key == "Ref":
        return _resolve_ref(arg, template, scenario)
    handler = _RESOLVERS.get(key)
    if handler is None:
        return value  # a plain one-key mapping, not an intrinsic
    try:
        return handler(arg, template, scenario)
    except (TypeError, ValueError, OverflowError, ArithmeticError, LookupError):
        # Arguments of a type no handler expected (`.inf`, a list for a number): the value
        # is unknown, never a crash of every rule that reads it.
        return Unresolved(f"the arguments of `{key}` are invalid", value)


def _resolve_ref(name: Any, template: Template, scenario: Scenario = NO_CONDITIONS) -> Any:
    if not isinstance(name, str):
        return Unresolved("the `Ref` is malformed", {"Ref": name})
    if name == "AWS::NoValue":
        return NO_VALUE
    parameter = template.parameters.get(name)
    if parameter is not None:
        if not parameter.has_value:
            return Unresolved(f"parameter `{name}` has no default", {"Ref": name})
        if scenario and not parameter.overridden:
            contradicted = _contradicted_by(name, template, scenario)
            if contradicted is not None:
                return contradicted
        return _list_value(parameter.value) if parameter.is_list else parameter.value
    if name in PSEUDO_PARAMETERS:
        return Unresolved(f"`{name}` is known only at deployment", {"Ref": name})
    if name in template.resources:
        return Unresolved(f"the physical id of `{name}` is known only at deployment",
                          {"Ref": name})
    return Unresolved(f"`{name}` is not defined in the template", {"Ref": name})


def _contradicted_by(name: str, template: Template, scenario: Scenario) -> Any:
    """In a scenario whose conditions cannot hold with parameter `name` at its default, the
    default is not what is deployed: the value a true `Equals` pins it to, else Unresolved.
    (`HasConsumer` true means `ConsumerAccount` is not its empty default.)"""
    defaults = _Defaults(template)
    for condition, outcome in scenario:
        expr = template.conditions.get(condition)
        if expr is None or name not in defaults.parameters_of(condition):
            continue
        if defaults.evaluate(expr) is not (not outcome):
            continue
        pinned = _pinned_value(expr, name, template) if outcome else None
        if pinned is not None:
            return pinned
        # The scenario's own wording names the condition; the reason does not repeat it.
        return Unresolved(f"parameter `{name}` is set to something other than its default",
                          {"Ref": name})
    return None


def _pinned_value(expr: Any, name: str, template: Template) -> Any:
    """The literal of `Fn::Equals [!Ref name, literal]` (either order), else None."""
    arg = expr.get("Fn::Equals") if isinstance(expr, dict) and len(expr) == 1 else None
    if not (isinstance(arg, list) and len(arg) == 2):
        return None
    for side, other in ((arg[0], arg[1]), (arg[1], arg[0])):
        if _ref_name(side) == name and _ref_name(other) is None:
            literal = resolve(other, template)
            if isinstance(literal, (str, int, float)) and not isinstance(literal, bool):
                return literal
    return None


class _Defaults:
    """Conditions evaluated with every parameter at its default: True, False, or None when
    something in them is known only at deployment."""

    def __init__(self, template: Template) -> None:
        self.template = template

    def parameters_of(self, condition: str) -> set[str]:
        """Parameters a condition reads, through the conditions it refers to."""
        found: set[str] = set()
        seen: set[str] = set()
        pending = [condition]
        while pending:
            current = pending.pop()
            if current in seen or current not in self.template.conditions:
                continue
            seen.add(current)
            for ref in find_references(self.template.conditions[current], ()):
                if isinstance(ref, Reference) and ref.kind == "Condition":
                    pending.append(ref.target)
                elif isinstance(ref, Reference) and ref.target in self.template.parameters:
                    found.add(ref.target)
        return found

    def evaluate(self, expr: Any, depth: int = 0) -> bool | None:
        if depth > 32:  # a cycle of conditions (reported by the graph)
            return None
        if isinstance(expr, bool):
            return expr
        if not isinstance(expr, dict) or len(expr) != 1:
            return None
        (key, arg), = expr.items()
        if key == "Condition" and isinstance(arg, str):
            inner = self.template.conditions.get(arg)
            return None if inner is None else self.evaluate(inner, depth + 1)
        if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
            left, right = (resolve(side, self.template) for side in arg)
            if not all(isinstance(v, (str, int, float, bool)) for v in (left, right)):
                return None
            return _text(left) == _text(right)
        if not isinstance(arg, list):
            return None
        values = [self.evaluate(item, depth + 1) for item in arg]
        if key == "Fn::Not" and len(values) == 1:
            return None if values[0] is None else not values[0]
        if key == "Fn::And":
            return False if False in values else None if None in values else True
        if key == "Fn::Or":
            return True if True in values else None if None in values else False
        return None


def _list_value(value: Any) -> Any:
    """A list parameter's value as CloudFormation passes it: the text split on commas, each
    item trimmed (a list written in the template or given by the user is taken as it is)."""
    if isinstance(value, list):
        return [_text(item).strip() if isinstance(item, (str, int, float)) else item
                for item in value]
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [item.strip() for item in _text(value).split(",")]
    return value


def _resolve_if(arg: Any, template: Template, scenario: Scenario) -> Any:
    if not (isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str)):
        return Unresolved("the `Fn::If` is malformed", {"Fn::If": arg})
    outcomes = dict(scenario)
    if arg[0] not in outcomes:
        return Unresolved(f"it depends on condition `{arg[0]}`", {"Fn::If": arg})
    return resolve(arg[1] if outcomes[arg[0]] else arg[2], template, scenario)


def _resolve_join(arg: Any, template: Template, scenario: Scenario) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
        return Unresolved("the `Fn::Join` is malformed", {"Fn::Join": arg})
    items = resolve(arg[1], template, scenario)
    if not isinstance(items, list):
        return items if isinstance(items, Unresolved) else Unresolved(
            "the `Fn::Join` list is not a list", {"Fn::Join": arg})
    parts = []
    for item in items:
        part = resolve(item, template, scenario)
        if isinstance(part, Unresolved):
            return part
        if part is NO_VALUE:
            continue
        if isinstance(part, (dict, list)):
            return Unresolved("a `Fn::Join` item is not a string", {"Fn::Join": arg})
        parts.append(_text(part))
    return arg[0].join(parts)


def _resolve_select(arg: Any, template: Template, scenario: Scenario) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return Unresolved("the `Fn::Select` is malformed", {"Fn::Select": arg})
    index = resolve(arg[0], template, scenario)
    items = resolve(arg[1], template, scenario)
    if isinstance(index, Unresolved):
        return index
    if isinstance(items, Unresolved):
        return items
    position = _whole_number(index)
    if not isinstance(items, list) or position is None or not 0 <= position < len(items):
        return Unresolved("the `Fn::Select` index is out of range", {"Fn::Select": arg})
    return resolve(items[position], template, scenario)


def _whole_number(value: Any) -> int | None:
    """An index or count as CloudFormation reads one: an integer, or a short string of digits
    (parameters are strings). Booleans, fractions, infinities and anything else are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    return None


def _resolve_split(arg: Any, template: Template, scenario: Scenario) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and arg[0]):
        return Unresolved("the `Fn::Split` is malformed", {"Fn::Split": arg})
    text = resolve(arg[1], template, scenario)
    if isinstance(text, str):
        return text.split(arg[0])
    return text if isinstance(text, Unresolved) else Unresolved(
        "the `Fn::Split` source is not a string", {"Fn::Split": arg})


def _resolve_find_in_map(arg: Any, template: Template, scenario: Scenario) -> Any:
    if not (isinstance(arg, list) and len(arg) in (3, 4)):
        return Unresolved("the `Fn::FindInMap` is malformed", {"Fn::FindInMap": arg})
    keys = [resolve(k, template, scenario) for k in arg[:3]]
    for k in keys:
        if isinstance(k, Unresolved):
            return k
    node: Any = template.mappings
    for k in keys:
        if not isinstance(node, dict) or _text(k) not in node:
            if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return resolve(arg[3]["DefaultValue"], template, scenario)
            return Unresolved(f"mapping key `{_text(k)}` is not found", {"Fn::FindInMap": arg})
        node = node[_text(k)]
    return resolve(node, template, scenario)


def _resolve_sub(arg: Any, template: Template, scenario: Scenario) -> Any:
    local: Mapping[str, Any] = {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
            and isinstance(arg[1], dict):
        text, local = arg
    elif isinstance(arg, str):
        text = arg
    else:
        return Unresolved("the `Fn::Sub` is malformed", {"Fn::Sub": arg})
    failure: list[Unresolved] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            value = resolve(local[name], template, scenario)
        elif "." in name:
            value = Unresolved(f"`{name}` is known only at deployment")
        else:
            value = _resolve_ref(name, template, scenario)
        if isinstance(value, (Unresolved, dict, list)):
            failure.append(value if isinstance(value, Unresolved)
                           else Unresolved(f"`{name}` is not a string"))
            return ""
        return _text(value)

    result = _SUB_VARIABLE.sub(substitute, text)
    if failure:
        return Unresolved(failure[0].reason, {"Fn::Sub": arg})
    return result


CIDR_MAX_COUNT = 256


def _resolve_cidr(arg: Any, template: Template, scenario: Scenario) -> Any:
    import ipaddress

    if not (isinstance(arg, list) and len(arg) == 3):
        return Unresolved("the `Fn::Cidr` is malformed", {"Fn::Cidr": arg})
    block, count, bits = (resolve(a, template, scenario) for a in arg)
    for part in (block, count, bits):
        if isinstance(part, Unresolved):
            return part
    invalid = Unresolved("the `Fn::Cidr` arguments are invalid", {"Fn::Cidr": arg})
    subnets, size = _whole_number(count), _whole_number(bits)
    # CloudFormation allows 1 to 256 subnets: the list built here is bounded the same way.
    if not isinstance(block, str) or subnets is None or not 1 <= subnets <= CIDR_MAX_COUNT \
            or size is None:
        return invalid
    try:
        network = ipaddress.ip_network(block, strict=False)
    except ValueError:
        return invalid
    if not 0 <= size <= network.max_prefixlen - network.prefixlen:
        return invalid
    found = network.subnets(new_prefix=network.max_prefixlen - size)
    return [str(s) for s in itertools.islice(found, subnets)]


def _resolve_getazs(arg: Any, template: Template, scenario: Scenario) -> Any:
    return Unresolved("availability zones are known only at deployment", {"Fn::GetAZs": arg})


def _resolve_opaque(name: str) -> Any:
    def handler(arg: Any, template: Template, scenario: Scenario) -> Any:
        return Unresolved(f"`{name}` is known only at deployment", {name: arg})
    return handler


_RESOLVERS = {
    "Fn::If": _resolve_if,
    "Fn::Join": _resolve_join,
    "Fn::Select": _resolve_select,
    "Fn::Split": _resolve_split,
    "Fn::FindInMap": _resolve_find_in_map,
    "Fn::Sub": _resolve_sub,
    "Fn::Cidr": _resolve_cidr,
    "Fn::GetAZs": _resolve_getazs,
    "Fn::GetAtt": _resolve_opaque("Fn::GetAtt"),
    "Fn::ImportValue": _resolve_opaque("Fn::ImportValue"),
    "Fn::Base64": _resolve_opaque("Fn::Base64"),
    "Fn::Transform": _resolve_opaque("Fn::Transform"),
    "Fn::ToJsonString": _resolve_opaque("Fn::ToJsonString"),
    "Fn::Length": _resolve_opaque("Fn::Length"),
}
