"""Which files a scan reads: include/exclude globs in `.gitignore` syntax, `.gitignore` files,
sorted order, and no symlink loops (symbolic links to directories are never followed).

Pattern syntax, as in `.gitignore`: `*` and `?` stay inside one path segment, `**` spans
segments, a pattern with a `/` before its end is anchored to the base directory, otherwise it
matches the name at any depth; a trailing `/` matches directories only; `!` re-includes; the last
matching pattern wins. A directory that is excluded is not entered.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_INCLUDE = ("*.yaml", "*.yml", "*.json", "*.template")
SKIPPED_DIRECTORIES = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules",
                                 "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
                                 ".ruff_cache", "cdk.out", ".aws-sam"})


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    negated: bool
    directories_only: bool


def _translate(body: str) -> str:
    """Glob body (no leading `!`, no trailing `/`) to a regular expression over a relative
    posix path."""
    anchored = "/" in body
    body = body.removeprefix("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (end := body.find("]", i + 2)) != -1:
            inner = body[i + 1:end]
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        elif char == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(char))
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return "^" + prefix + "".join(out) + "$"


def compile_pattern(text: str) -> _Pattern | None:
    """One line of a pattern list; None for blanks and comments."""
    line = text.rstrip("\n").rstrip() if not text.endswith("\\ ") else text
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    directories_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    return _Pattern(re.compile(_translate(line)), negated, directories_only)


@dataclass(frozen=True)
class PatternList:
    """An ordered list of patterns relative to `base`."""

    base: Path
    patterns: tuple[_Pattern, ...]

    @classmethod
    def of(cls, lines: Sequence[str], base: Path) -> PatternList:
        compiled = (compile_pattern(line) for line in lines)
        return cls(Path(os.path.abspath(base)), tuple(p for p in compiled if p is not None))

    def verdict(self, path: Path, is_dir: bool) -> bool | None:
        """True when the last matching pattern includes `path` (negated patterns exclude),
        None when no pattern matches."""
        relative = relative_posix(path, self.base)
        result = None
        for pattern in self.patterns:
            if pattern.directories_only and not is_dir:
                continue
            if pattern.regex.match(relative):
                result = not pattern.negated
        return result


def relative_posix(path: Path, base: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), base)).as_posix()


@dataclass(frozen=True)
class WalkOptions:
    root: Path  # globs are relative to it (the configuration file's folder, else the cwd)
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    _cache: dict[str, PatternList] = field(default_factory=dict, compare=False, repr=False)

    def include_list(self) -> PatternList:
        return self._compiled("include", self.include or DEFAULT_INCLUDE)

    def exclude_list(self) -> PatternList:
        return self._compiled("exclude", self.exclude)

    def _compiled(self, key: str, lines: Sequence[str]) -> PatternList:
        if key not in self._cache:
            self._cache[key] = PatternList.of(lines, self.root)
        return self._cache[key]


@dataclass(frozen=True)
class Candidate:
    path: Path
    skipped: str = ""  # why the file is not scanned, when it is not


def _excluded_by_config(path: Path, options: WalkOptions, is_dir: bool,
                        check_parents: bool = False) -> bool:
    """The path (or, with `check_parents`, one of its folders below the root) matches an
    exclude pattern. The walk prunes excluded folders, so it checks only the path itself."""
    excludes = options.exclude_list()
    if not excludes.patterns:
        return False
    if excludes.verdict(path, is_dir):
        return True
    if not check_parents:
        return False
    root = excludes.base
    for parent in Path(os.path.abspath(path)).parents:
        if parent == root or root not in parent.parents:
            break
        if excludes.verdict(parent, True):
            return True
    return False


def _gitignore_chain(top: Path) -> list[PatternList]:
    """`.gitignore` files from the repository root (the nearest folder holding `.git`) down to
    `top`; only `top`'s own when it is not inside a repository."""
    ancestors: list[Path] = []
    if not (top / ".git").exists():
        for parent in top.parents:
            ancestors.append(parent)
            if (parent / ".git").exists():
                break
        else:
            ancestors = []
    folders = [*reversed(ancestors), top]
    return [chain for folder in folders if (chain := _read_gitignore(folder))]


def _read_gitignore(folder: Path) -> PatternList | None:
    try:
        text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    patterns = PatternList.of(text.splitlines(), folder)
    return patterns if patterns.patterns else None


def _ignored(path: Path, is_dir: bool, chain: Sequence[PatternList]) -> bool:
    result: bool | None = None
    for patterns in chain:  # outermost first: deeper files override
        verdict = patterns.verdict(path, is_dir)
        if verdict is not None:
            result = verdict
    return bool(result)


def walk(paths: Sequence[Path], options: WalkOptions) -> Iterator[Candidate]:
    """Files named explicitly (skipped only when excluded), then template-like files below
    named folders, in sorted order within each folder."""
    for path in paths:
        if path.is_dir():
            yield from _walk_folder(path, options)
        elif _excluded_by_config(path, options, is_dir=False, check_parents=True):
            yield Candidate(path, "excluded by configuration")
        else:
            yield Candidate(path)


def _walk_folder(top: Path, options: WalkOptions) -> Iterator[Candidate]:
    includes = options.include_list()
    if _excluded_by_config(top, options, is_dir=True, check_parents=True):
        return
    top_resolved = Path(os.path.abspath(top))
    base_chain = _gitignore_chain(top_resolved) if options.respect_gitignore else []
    chains: dict[str, list[PatternList]] = {str(top_resolved): base_chain}
    for root, dirs, files in os.walk(top):  # followlinks=False: no symlink loops
        here = Path(root)
        chain = chains.pop(os.path.abspath(here), base_chain)
        kept = []
        for name in sorted(dirs):
            child = here / name
            if name in SKIPPED_DIRECTORIES or child.is_symlink():
                continue
            if _excluded_by_config(child, options, True) or _ignored(child, True, chain):
                continue
            own = _read_gitignore(child) if options.respect_gitignore else None
            chains[os.path.abspath(child)] = [*chain, own] if own else chain
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            if not includes.verdict(path, False):
                continue
            if _excluded_by_config(path, options, False) or _ignored(path, False, chain):
                continue
            yield Candidate(path)
