"""`audit(paths, config) -> Report`: the one entry point for the CLI, hooks and tests."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnaudit.decode import DecodeError, Limits, bytes_to_text, decode_text
from cfnaudit.engine import DECODE_ERROR, Finding, TemplateResult, file_finding, run_rules
from cfnaudit.intrinsics import DEFAULT_SCENARIO_BUDGET
from cfnaudit.registry import (
    Selection,
    apply_options,
    builtin_rules_dir,
    load_rules,
    select_rules,
)
from cfnaudit.rule import Rule, Severity
from cfnaudit.template import Location, NotATemplate, build_template

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules",
                                 "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
                                 ".ruff_cache", "cdk.out", ".aws-sam"})


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.WARNING
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    rules_dirs: tuple[Path, ...] = ()
    limits: Limits = field(default_factory=Limits)
    scenario_budget: int = DEFAULT_SCENARIO_BUDGET
    debug: bool = False


@dataclass(frozen=True)
class FileOutcome:
    file: str
    status: str  # scanned | skipped | error
    note: str = ""


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    files: tuple[FileOutcome, ...]
    rules: tuple[Rule, ...]
    examined: Mapping[str, int]  # rule code -> resources examined over all files

    @property
    def active(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed is None)

    def exit_code(self, fail_on: Severity) -> int:
        active = self.active
        if any(f.is_error for f in active):
            return 2
        if any(f.severity.rank >= fail_on.rank for f in active):
            return 1
        return 0


def resolve_rules(config: Config) -> tuple[Rule, ...]:
    rules = load_rules([builtin_rules_dir(), *config.rules_dirs])
    rules = apply_options(rules, config.options)
    return select_rules(rules, Selection(config.select, config.ignore))


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, with forward slashes."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(paths: Sequence[Path]) -> Iterator[Path]:
    """Files named explicitly, and template-like files below named directories, in sorted
    order. Symbolic links to directories are not followed, so link loops cannot trap us."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRECTORIES)
                for name in sorted(files):
                    if name.endswith(TEMPLATE_SUFFIXES):
                        yield Path(root) / name
        else:
            yield path


def audit_file(path: Path, rules: Sequence[Rule], config: Config
               ) -> tuple[FileOutcome, TemplateResult]:
    shown = display_path(path)
    try:
        text = bytes_to_text(_read(path, config.limits))
        if not looks_like_template(text):
            raise NotATemplate(shown)
        decoded = decode_text(text, limits=config.limits)
        template = build_template(decoded, shown, config.parameters)
    except DecodeError as exc:
        location = Location(exc.line, exc.column, exc.line, exc.column)
        finding = file_finding(DECODE_ERROR, shown, exc.message, location)
        return FileOutcome(shown, "error", exc.message), TemplateResult([finding])
    except NotATemplate:
        return (FileOutcome(shown, "skipped", "not a CloudFormation template"),
                TemplateResult([]))
    result = run_rules(template, rules, config.scenario_budget, config.debug)
    return FileOutcome(shown, "scanned"), result


def looks_like_template(text: str) -> bool:
    """Cheap sniff before parsing: every template names `Resources` (or its format version).
    Lists, empty files and other tools' YAML are skipped without a parse error, so a hook fed
    every YAML file in a repository stays quiet on them."""
    return "Resources" in text or "AWSTemplateFormatVersion" in text


def _read(path: Path, limits: Limits) -> bytes:
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise DecodeError(f"file is {size} bytes, over the {limits.max_bytes}-byte limit")
        with path.open("rb") as handle:
            return handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    except IsADirectoryError:
        raise DecodeError("is a directory") from None
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from None


def audit(paths: Sequence[Path | str], config: Config = Config(),
          rules: Sequence[Rule] | None = None) -> Report:
    chosen = tuple(rules) if rules is not None else resolve_rules(config)
    outcomes: list[FileOutcome] = []
    findings: list[Finding] = []
    examined: dict[str, int] = dict.fromkeys((r.code for r in chosen), 0)
    seen: set[str] = set()
    for path in discover([Path(p) for p in paths]):
        key = str(path.resolve()) if path.exists() else str(path)
        if key in seen:
            continue
        seen.add(key)
        outcome, result = audit_file(path, chosen, config)
        outcomes.append(outcome)
        findings.extend(result.findings)
        for code, count in result.examined.items():
            examined[code] = examined.get(code, 0) + count
    findings.sort(key=lambda f: f.sort_key)
    outcomes.sort(key=lambda o: o.file)
    return Report(tuple(findings), tuple(outcomes), chosen, examined)
