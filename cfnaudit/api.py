"""`audit(paths, config) -> Report`: the one entry point for the CLI, hooks and tests."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cfnaudit.baseline import BaselineOutcome
from cfnaudit.decode import DecodeError, Limits, bytes_to_text, decode_text
from cfnaudit.engine import (
    DECODE_ERROR,
    Finding,
    TemplateResult,
    file_finding,
    refuse_suppressions,
    run_rules,
)
from cfnaudit.intrinsics import DEFAULT_SCENARIO_BUDGET
from cfnaudit.registry import apply_options, builtin_rules_dir, load_rules
from cfnaudit.rule import Rule, Severity
from cfnaudit.rulesets import DEFAULT_RULESET, choose
from cfnaudit.template import Location, NotATemplate, build_template
from cfnaudit.walk import DEFAULT_INCLUDE, SKIPPED_DIRECTORIES, PatternList, WalkOptions, walk

TEMPLATE_SUFFIXES = tuple(pattern.lstrip("*") for pattern in DEFAULT_INCLUDE)
__all__ = ["SKIPPED_DIRECTORIES", "TEMPLATE_SUFFIXES", "Config", "FileOutcome", "Report",
           "audit", "audit_file", "discover", "display_path", "looks_like_template",
           "resolve_rules"]

BY_CONFIG = "config"  # `Finding.suppressed_by` for per-path ignores

Progress = Callable[[int, int], None]  # (files done, files in total)


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.ERROR
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    rules_dirs: tuple[Path, ...] = ()
    limits: Limits = field(default_factory=Limits)
    scenario_budget: int = DEFAULT_SCENARIO_BUDGET
    debug: bool = False
    ruleset: str = DEFAULT_RULESET
    extend_select: tuple[str, ...] = ()
    include: tuple[str, ...] = ()  # empty: DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (glob, codes)
    no_suppress: tuple[str, ...] = ()
    baseline: Path | None = None
    jobs: int = 0  # 0: automatic (see AUTO_PARALLEL_FILES); N: exactly N processes
    root: Path | None = None  # globs are relative to it; None: the working directory
    source: str = ""  # the configuration file, for messages


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
    baseline: BaselineOutcome | None = None

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
    return choose(rules, config.ruleset, config.select, config.extend_select, config.ignore)


def display_path(path: Path) -> str:
    """Relative to the working directory when below it, with forward slashes. Symbolic links
    are not resolved: a file is shown under the name it was reached by."""
    absolute = os.path.abspath(path)
    for base in _working_directories(os.getcwd()):
        if absolute.startswith(base):
            return Path(absolute[len(base):]).as_posix()
    return path.as_posix()


@functools.lru_cache(maxsize=4)
def _working_directories(cwd: str) -> tuple[str, ...]:
    """The working directory as named and with its links resolved (an absolute path may be
    given in either form), each with a trailing separator."""
    return tuple(dict.fromkeys(os.path.join(d, "") for d in (cwd, os.path.realpath(cwd))))


def _identity(path: Path) -> tuple[int, int] | str:
    """The same file reached by two names (a link, `./a` and `a`) is scanned once. A file that
    cannot be stat'ed (missing, a link loop) is keyed by name; reading it reports why."""
    try:
        status = os.stat(path)
    except OSError:
        return os.path.abspath(path)
    return status.st_dev, status.st_ino


def walk_options(config: Config) -> WalkOptions:
    return WalkOptions(root=config.root or Path.cwd(), include=config.include or DEFAULT_INCLUDE,
                       exclude=config.exclude, respect_gitignore=config.respect_gitignore)


def discover(paths: Sequence[Path], config: Config = Config()) -> Iterator[Path]:
    """Files to scan, in order: files named explicitly, and template-like files below named
    folders (sorted; include/exclude globs and `.gitignore` files respected; symbolic links to
    folders not followed, so link loops cannot trap us). Excluded files are left out."""
    for candidate in walk(paths, walk_options(config)):
        if not candidate.skipped:
            yield candidate.path


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
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            # A named pipe or device would block or never end: only regular files are read.
            raise DecodeError("not a regular file")
        size = status.st_size
        if size > limits.max_bytes:
            raise DecodeError(f"file is {size} bytes, over the {limits.max_bytes}-byte limit")
        with path.open("rb") as handle:
            return handle.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    except RuntimeError:  # a symbolic link loop, before Python 3.13 made it an OSError
        raise DecodeError("cannot read file: symbolic link loop") from None
    except IsADirectoryError:
        raise DecodeError("is a directory") from None
    except OSError as exc:
        raise DecodeError(f"cannot read file: {exc.strerror or exc}") from None


def audit(paths: Sequence[Path | str], config: Config = Config(),
          rules: Sequence[Rule] | None = None, progress: Progress | None = None) -> Report:
    """Scan `paths` (files and folders) with `config`. `rules` overrides rule resolution;
    `progress` is called after each file. With `config.jobs` other than 1, files are scanned in
    worker processes; the report is identical to a serial run."""
    chosen = tuple(rules) if rules is not None else resolve_rules(config)
    targets, outcomes = _plan([Path(p) for p in paths], config)
    results = _run(targets, chosen, config, progress)
    findings: list[Finding] = []
    examined: dict[str, int] = dict.fromkeys((r.code for r in chosen), 0)
    for path, (outcome, result) in zip(targets, results, strict=True):
        outcomes.append(outcome)
        findings.extend(_config_suppressions(path, result.findings, config))
        for code, count in result.examined.items():
            examined[code] = examined.get(code, 0) + count
    findings = refuse_suppressions(findings, config.no_suppress)
    findings.sort(key=lambda f: f.sort_key)
    outcomes.sort(key=lambda o: o.file)
    baseline_outcome = None
    if config.baseline is not None:
        findings, baseline_outcome = _apply_baseline(findings, outcomes, config)
    return Report(tuple(findings), tuple(outcomes), chosen, examined, baseline_outcome)


def _plan(paths: Sequence[Path], config: Config) -> tuple[list[Path], list[FileOutcome]]:
    """Files to scan (each once) and the outcomes of files excluded by configuration."""
    targets: list[Path] = []
    excluded: list[FileOutcome] = []
    seen: set[tuple[int, int] | str] = set()
    for candidate in walk(paths, walk_options(config)):
        path = candidate.path
        key = _identity(path)
        if key in seen:
            continue
        seen.add(key)
        if candidate.skipped:
            excluded.append(FileOutcome(display_path(path), "skipped", candidate.skipped))
        else:
            targets.append(path)
    return targets, excluded


# With `jobs` 0, scans of at least this many files use one process per CPU.
AUTO_PARALLEL_FILES = 64


def _run(targets: Sequence[Path], rules: tuple[Rule, ...], config: Config,
         progress: Progress | None) -> list[tuple[FileOutcome, TemplateResult]]:
    if config.jobs > 0:
        jobs = config.jobs
    else:  # worker start-up costs more than it saves on a handful of files (pre-commit)
        jobs = (os.cpu_count() or 1) if len(targets) >= AUTO_PARALLEL_FILES else 1
    jobs = min(jobs, len(targets))
    if jobs <= 1:
        results = []
        for done, path in enumerate(targets, start=1):
            results.append(audit_file(path, rules, config))
            if progress is not None:
                progress(done, len(targets))
        return results
    return _run_parallel(targets, rules, config, jobs, progress)


# Worker state. With the fork start method the workers inherit the parent's rules (including
# rules given to `audit` directly); otherwise each worker resolves them again from the config.
_WORKER: dict[str, Any] = {}


def _init_worker(config: Config, codes: tuple[str, ...]) -> None:
    rules = _WORKER.get("rules")
    if rules is None or tuple(r.code for r in rules) != codes:
        wanted = set(codes)
        rules = tuple(r for r in resolve_rules(config) if r.code in wanted)
    _WORKER["rules"] = rules
    _WORKER["config"] = config


def _audit_in_worker(path: Path) -> tuple[FileOutcome, TemplateResult]:
    return audit_file(path, _WORKER["rules"], _WORKER["config"])


def _run_parallel(targets: Sequence[Path], rules: tuple[Rule, ...], config: Config, jobs: int,
                  progress: Progress | None) -> list[tuple[FileOutcome, TemplateResult]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    _WORKER["rules"] = rules
    chunk = max(1, min(16, len(targets) // (jobs * 4)))
    results = []
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method),
                             initializer=_init_worker,
                             initargs=(config, tuple(r.code for r in rules))) as pool:
        for done, result in enumerate(pool.map(_audit_in_worker, targets, chunksize=chunk),
                                      start=1):
            results.append(result)
            if progress is not None:
                progress(done, len(targets))
    return results


def _config_suppressions(path: Path, findings: Sequence[Finding], config: Config
                         ) -> list[Finding]:
    """`per_path_ignores`: findings of the listed rules in matching files are suppressed, with
    the pattern and the configuration file as the reason."""
    if not config.per_path_ignores or not findings:
        return list(findings)
    root = config.root or Path.cwd()
    applicable: list[tuple[str, tuple[str, ...]]] = [
        (glob, codes) for glob, codes in config.per_path_ignores
        if PatternList.of([glob], root).verdict(path, is_dir=False)]
    if not applicable:
        return list(findings)
    where = config.source or "the configuration"
    result = []
    for finding in findings:
        match = next((glob for glob, codes in applicable
                      if any(c == "ALL" or finding.code.startswith(c) for c in codes)), None)
        if match is not None and finding.suppressed is None and not finding.is_error:
            finding = replace(finding, suppressed=f"per-path ignore `{match}` in {where}",
                              suppressed_by=BY_CONFIG)
        result.append(finding)
    return result


def _apply_baseline(findings: list[Finding], outcomes: Sequence[FileOutcome], config: Config
                    ) -> tuple[list[Finding], BaselineOutcome]:
    """Baseline entries absorb matching findings, except those of rules in `no_suppress`."""
    from cfnaudit import baseline

    assert config.baseline is not None
    entries = baseline.read(config.baseline)
    marked, outcome = baseline.apply(findings, entries, display_path(config.baseline),
                                     (o.file for o in outcomes), refused=config.no_suppress)
    return marked, outcome
