"""Configuration files: `.cfnaudit.yaml`, `[tool.cfnaudit]` in `pyproject.toml`, `--config FILE`.

The nearest folder (the working directory, then its parents) holding `.cfnaudit.yaml`
(or `.cfnaudit.yml`) or a `pyproject.toml` with a `[tool.cfnaudit]` table provides the file; in
one folder `.cfnaudit.yaml` wins. Paths in the file (rule directories, the baseline) and its
globs are relative to the file's folder. Command-line flags override the file: a flag replaces
the file's value, except `--option` and `--param`, which override single entries.

Every key is checked: an unknown key or a bad value is a `ConfigError` naming the key and the
file (exit code 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnaudit.rule import Severity

CONFIG_NAMES = (".cfnaudit.yaml", ".cfnaudit.yml")
PYPROJECT = "pyproject.toml"


class ConfigError(Exception):
    """A configuration file or value that cannot be used (exit code 2)."""


# ------------------------------------------------------------------------------ value checks

Check = Callable[[str, Any, Path], Any]


def _codes(key: str, value: Any, base: Path) -> tuple[str, ...]:
    """A list of codes/prefixes/names, or one comma-separated string."""
    if isinstance(value, str):
        value = value.split(",")
    value = list(value) if isinstance(value, tuple) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"`{key}` must be a list of rule codes, not {value!r}")
    return tuple(v.strip() for v in value if v.strip())


def _globs(key: str, value: Any, base: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    value = list(value) if isinstance(value, tuple) else value
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"`{key}` must be a list of glob patterns, not {value!r}")
    return tuple(v.strip() for v in value)


def _severity(key: str, value: Any, base: Path) -> str:
    choices = [s.value for s in Severity]
    if value not in choices:
        raise ConfigError(f"`{key}` must be one of {', '.join(choices)}, not {value!r}")
    return str(value)


def _ruleset(key: str, value: Any, base: Path) -> str:
    from cfnaudit.rulesets import RULESETS

    if value not in RULESETS:
        raise ConfigError(f"`{key}` must be one of {', '.join(sorted(RULESETS))}, not {value!r}")
    return str(value)


def _integer(minimum: int) -> Check:
    def check(key: str, value: Any, base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(f"`{key}` must be an integer of at least {minimum}, not {value!r}")
        return value

    return check


def _boolean(key: str, value: Any, base: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"`{key}` must be true or false, not {value!r}")
    return value


def _path(key: str, value: Any, base: Path) -> str:
    value = str(value) if isinstance(value, Path) else value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"`{key}` must be a path, not {value!r}")
    return _relative_to(base, value)


def _paths(key: str, value: Any, base: Path) -> tuple[str, ...]:
    if isinstance(value, (str, Path)):
        value = [value]
    value = list(value) if isinstance(value, tuple) else value
    if not isinstance(value, list):
        raise ConfigError(f"`{key}` must be a list of paths, not {value!r}")
    return tuple(_path(key, v, base) for v in value)


def _relative_to(base: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


def _options(key: str, value: Any, base: Path) -> dict[str, dict[str, Any]]:
    """`{CODE: {option: value}}`; option names and types are checked against the rules."""
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must map rule codes to their options, not {value!r}")
    result: dict[str, dict[str, Any]] = {}
    for code, settings in value.items():
        if not isinstance(code, str) or not isinstance(settings, dict):
            raise ConfigError(f"`{key}.{code}` must map option names to values, "
                              f"not {settings!r}")
        for name, setting in settings.items():
            if not isinstance(setting, (str, int, float, bool, list)):
                raise ConfigError(f"`{key}.{code}.{name}` must be a string, number, boolean "
                                  f"or list, not {setting!r}")
        result[code] = {str(k): (tuple(v) if isinstance(v, list) else v)
                        for k, v in settings.items()}
    return result


def _parameters(key: str, value: Any, base: Path) -> dict[str, str]:
    """Template parameter values. CloudFormation passes parameters as strings: numbers and
    booleans are written the way the console would, lists joined by commas."""
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must map parameter names to values, not {value!r}")
    result = {}
    for name, setting in value.items():
        if isinstance(setting, bool):
            result[str(name)] = "true" if setting else "false"
        elif isinstance(setting, (str, int, float)):
            result[str(name)] = str(setting)
        elif isinstance(setting, list) and all(isinstance(v, (str, int, float)) for v in setting):
            result[str(name)] = ",".join(str(v) for v in setting)
        else:
            raise ConfigError(f"`{key}.{name}` must be a string, number or list, "
                              f"not {setting!r}")
    return result


def _per_path_ignores(key: str, value: Any, base: Path) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"`{key}` must map glob patterns to rule codes, not {value!r}")
    return {str(glob): _codes(f"{key}.{glob}", codes, base) for glob, codes in value.items()}


def _category(key: str, value: Any, base: Path) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise ConfigError(f"`{key}` must be a name without spaces, not {value!r}")
    return value.strip()


KEYS: dict[str, tuple[Check, Any, str]] = {  # key -> (check, default, description)
    "ruleset": (_ruleset, "pipeline", "named rule set: baseline or pipeline"),
    "select": (_codes, (), "run only these codes/prefixes (replaces the rule set)"),
    "extend_select": (_codes, (), "add these codes/prefixes to the rule set"),
    "ignore": (_codes, (), "never run these codes/prefixes"),
    "fail_on": (_severity, "error", "lowest severity that makes the exit code 1"),
    "options": (_options, {}, "rule options: {CODE: {name: value}}"),
    "rules_dirs": (_paths, (), "extra rule directories"),
    "parameters": (_parameters, {}, "template parameter values: {Name: value}"),
    "include": (_globs, (), "files scanned in folders (default: *.yaml *.yml *.json "
                            "*.template)"),
    "exclude": (_globs, (), "files and folders never scanned (.gitignore syntax)"),
    "respect_gitignore": (_boolean, True, "skip files that .gitignore files exclude"),
    "per_path_ignores": (_per_path_ignores, {}, "{glob: [codes]}: suppress in matching files"),
    "no_suppress": (_codes, (), "codes whose suppressions are refused"),
    "baseline": (_path, None, "baseline file: report only findings not in it"),
    "jobs": (_integer(0), 0, "parallel processes (0: one per CPU from 64 files on)"),
    "scenario_budget": (_integer(1), 64, "most condition combinations per resource"),
    "max_bytes": (_integer(1), 5 * 1024 * 1024, "largest template file read"),
    "max_depth": (_integer(1), 100, "deepest nesting accepted"),
    "sarif_category": (_category, "cfnaudit", "SARIF automationDetails category"),
}


# ------------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class Settings:
    """Validated values by key (defaults filled in), and where they came from."""

    values: Mapping[str, Any]
    source: Path | None  # the configuration file, if any
    root: Path  # globs are relative to it

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def to_config(self, debug: bool = False) -> Any:
        """The `api.Config` these settings describe."""
        from cfnaudit.api import Config
        from cfnaudit.decode import Limits

        v = self.values
        return Config(
            select=v["select"], ignore=v["ignore"], fail_on=Severity(v["fail_on"]),
            options=v["options"], parameters=v["parameters"],
            rules_dirs=tuple(Path(p) for p in v["rules_dirs"]),
            limits=Limits(v["max_bytes"], v["max_depth"]),
            scenario_budget=v["scenario_budget"], debug=debug,
            ruleset=v["ruleset"], extend_select=v["extend_select"],
            include=v["include"], exclude=v["exclude"],
            respect_gitignore=v["respect_gitignore"],
            per_path_ignores=tuple(v["per_path_ignores"].items()),
            no_suppress=v["no_suppress"],
            baseline=Path(v["baseline"]) if v["baseline"] else None,
            jobs=v["jobs"], root=self.root,
            source=str(self.source) if self.source else "",
        )

    def render(self, output_format: str = "yaml") -> str:
        """The effective configuration, in the configuration file's own format."""
        plain = {key: _plain(value) for key, value in self.values.items()}
        if output_format == "json":
            return json.dumps({"source": str(self.source) if self.source else None,
                               "root": str(self.root), "settings": plain}, indent=2) + "\n"
        import yaml

        where = str(self.source) if self.source else "no configuration file (defaults)"
        header = f"# effective cfnaudit configuration\n# from: {where}\n# root: {self.root}\n"
        return header + yaml.safe_dump(plain, sort_keys=False, default_flow_style=False)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def find_config_file(start: Path) -> Path | None:
    """The nearest `.cfnaudit.yaml` or `pyproject.toml` with `[tool.cfnaudit]`, looking in
    `start` and then its parents."""
    start = Path(os.path.abspath(start))
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            if (folder / name).is_file():
                return folder / name
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return "cfnaudit" in _read_toml(path).get("tool", {})
    except ConfigError:
        return False


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None


def read_file(path: Path) -> dict[str, Any]:
    """The raw settings table of a configuration file."""
    if path.suffix == ".toml":
        data = _read_toml(path)
        tool = data.get("tool", {})
        if isinstance(tool, dict) and "cfnaudit" in tool:
            data = tool["cfnaudit"]
        elif path.name == PYPROJECT:
            raise ConfigError(f"{path}: has no [tool.cfnaudit] table")
    else:
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
        data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be a mapping of settings")
    return data


def _yaml_problem(exc: Any) -> str:
    """One line: where and what (PyYAML's own text spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem


def parse(raw: Mapping[str, Any], base: Path, where: str) -> dict[str, Any]:
    """Validated values for the keys present in `raw` (hyphens in keys read as underscores)."""
    values: dict[str, Any] = {}
    for written, value in raw.items():
        key = str(written).replace("-", "_")
        if key not in KEYS:
            known = ", ".join(KEYS)
            raise ConfigError(f"{where}: unknown key `{written}` (known keys: {known})")
        check = KEYS[key][0]
        try:
            values[key] = check(key, value, base)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return values


def _merge(file_values: Mapping[str, Any], flags: Mapping[str, Any]) -> dict[str, Any]:
    merged = {key: default for key, (_, default, _) in KEYS.items()}
    merged.update(file_values)
    for key, value in flags.items():
        if key in ("options", "parameters"):
            combined = {k: dict(v) if isinstance(v, dict) else v
                        for k, v in merged[key].items()}
            for name, setting in value.items():
                if key == "options":
                    combined.setdefault(name, {}).update(setting)
                else:
                    combined[name] = setting
            merged[key] = combined
        else:
            merged[key] = value
    return merged


def load(flags: Mapping[str, Any], config_file: Path | None = None, isolated: bool = False,
         cwd: Path | None = None) -> Settings:
    """Settings from the configuration file (explicit, else discovered from `cwd` upwards,
    none when `isolated`), overridden by command-line `flags` (already typed, keys as in
    `KEYS`; relative paths in flags are relative to the working directory)."""
    cwd = Path(os.path.abspath(cwd or Path.cwd()))
    source = None
    file_values: dict[str, Any] = {}
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"configuration file not found: {config_file}")
        source = Path(os.path.abspath(config_file))
    elif not isolated:
        source = find_config_file(cwd)
    if source is not None:
        file_values = parse(read_file(source), source.parent, str(source))
    unknown = set(flags) - set(KEYS)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    checked = parse(flags, cwd, "command line")
    root = source.parent if source is not None else cwd
    return Settings(_merge(file_values, checked), source, root)
