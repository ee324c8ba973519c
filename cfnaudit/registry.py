"""Finding, validating and selecting rules: built-in `rules/` plus user rule directories."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cfnaudit.rule import CODE_PATTERN, NAME_PATTERN, Rule

RULE_SUFFIXES = (".py", ".yaml", ".yml")


class RegistryError(Exception):
    """A rule file or a selection that cannot be used; reported as a usage error."""


def builtin_rules_dir() -> Path:
    """Next to the package in a wheel; the checkout's `rules/` in an editable install."""
    package = Path(__file__).resolve().parent
    shipped = package / "_builtin_rules"
    return shipped if shipped.is_dir() else package.parent / "rules"


def _load_python(path: Path) -> list[Rule]:
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
    module_name = f"cfnaudit_rules_{digest}.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise RegistryError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise RegistryError(f"{path}: rule file failed to load: {type(exc).__name__}: {exc}"
                            ) from exc
    return [replace(value, source=str(path)) for value in vars(module).values()
            if isinstance(value, Rule)]


def _load_yaml(path: Path) -> list[Rule]:
    import yaml

    from cfnaudit.declarative import RuleDefinitionError, load_yaml_rule

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # a safe loader
        return [load_yaml_rule(data, str(path))]
    except (yaml.YAMLError, OSError, RuleDefinitionError) as exc:
        raise RegistryError(f"{path}: {exc}") from exc


def load_rules(directories: Sequence[Path]) -> tuple[Rule, ...]:
    """Every rule in `directories`, in code order. Codes must be unique across them."""
    rules: list[Rule] = []
    for directory in directories:
        if not directory.is_dir():
            raise RegistryError(f"rules directory not found: {directory}")
        for path in sorted(directory.iterdir()):
            if path.name.startswith(("_", ".")) or path.suffix not in RULE_SUFFIXES:
                continue
            rules.extend(_load_python(path) if path.suffix == ".py" else _load_yaml(path))
    seen: dict[str, Rule] = {}
    for item in rules:
        _validate(item)
        if item.code in seen:
            raise RegistryError(f"rule code {item.code} is defined twice: in "
                                f"{seen[item.code].source} and {item.source}")
        seen[item.code] = item
    return tuple(sorted(rules, key=lambda r: r.code))


def _validate(item: Rule) -> None:
    where = item.source or item.code
    if not CODE_PATTERN.match(item.code):
        raise RegistryError(f"{where}: rule code {item.code!r} must be 2-4 capitals and 3 digits")
    if not NAME_PATTERN.match(item.name):
        raise RegistryError(f"{where}: rule name {item.name!r} is not kebab-case")
    if not NAME_PATTERN.match(item.category):
        raise RegistryError(f"{where}: category {item.category!r} is not kebab-case")
    if item.check is None:
        raise RegistryError(f"{where}: rule {item.code} has no check")


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def wants(self, item: Rule) -> bool:
        def hit(patterns: Iterable[str]) -> bool:
            return any(p == "ALL" or item.code.startswith(p) or item.name == p for p in patterns)

        return (not self.select or hit(self.select)) and not hit(self.ignore)


def select_rules(rules: Iterable[Rule], selection: Selection) -> tuple[Rule, ...]:
    chosen = tuple(r for r in rules if selection.wants(r))
    known = list(rules)
    for pattern in (*selection.select, *selection.ignore):
        if pattern != "ALL" and not any(r.code.startswith(pattern) or r.name == pattern
                                        for r in known):
            raise RegistryError(f"no rule matches {pattern!r} (see `cfnaudit rules`)")
    return chosen


def apply_options(rules: Iterable[Rule], settings: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[Rule, ...]:
    """Rules with user option values (`{code: {key: value}}`), checked against the defaults'
    types. Unknown codes or keys are errors."""
    by_code = {r.code: r for r in rules}
    for code, values in settings.items():
        item = by_code.get(code)
        if item is None:
            raise RegistryError(f"option for unknown rule {code}")
        merged = dict(item.options)
        for key, value in values.items():
            if key not in item.options:
                names = ", ".join(sorted(item.options)) or "none"
                raise RegistryError(f"rule {code} has no option {key!r} (options: {names})")
            merged[key] = coerce_option(code, key, item.options[key], value)
        by_code[code] = replace(item, options=MappingProxyType(merged))
    return tuple(by_code[r.code] for r in rules)


def coerce_option(code: str, key: str, default: Any, value: Any) -> Any:
    """A user value in the type of the default: `--option S3L001.days=60` gives 60."""
    if isinstance(value, str) and not isinstance(default, str):
        import yaml

        with contextlib.suppress(yaml.YAMLError):
            value = yaml.safe_load(value)
    kind = type(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, (list, tuple)):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        ok = isinstance(value, (list, tuple))
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise RegistryError(f"option {code}.{key} takes a {kind.__name__}, not {value!r}")
    return value
