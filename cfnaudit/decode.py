"""Bytes to plain data plus a location for every key and value.

YAML goes through the libyaml event parser when present (the pure-Python parser otherwise) and the
tree is built here, iteratively, so that depth, anchors and duplicate keys are checked as events
arrive: no recursion, no alias expansion, no constructor surprises. JSON goes through the C json
decoder; its locations are computed by a small scanner only when a finding needs them.
"""

from __future__ import annotations

import bisect
import codecs
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

Path = tuple[str | int, ...]
# (line, column, end_line, end_column), all 0-based as the parsers report them.
Span = tuple[int, int, int, int]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DEPTH = 100

SHORT_TAGS: dict[str, str] = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!FindInMap": "Fn::FindInMap",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!GetAZs": "Fn::GetAZs",
    "!ImportValue": "Fn::ImportValue",
    "!Equals": "Fn::Equals",
    "!And": "Fn::And",
    "!Or": "Fn::Or",
    "!Not": "Fn::Not",
    "!Transform": "Fn::Transform",
    "!Length": "Fn::Length",
    "!ToJsonString": "Fn::ToJsonString",
    "!ForEach": "Fn::ForEach",
}

_CORE_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


class DecodeError(Exception):
    """A file that cannot be read as a template. Line and column are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


@dataclass
class Marks:
    """Locations of keys and values by path. JSON marks are computed on first use."""

    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)
    _compute: Callable[[], tuple[dict[Path, Span], dict[Path, Span]]] | None = None

    def _ready(self) -> None:
        if self._compute is not None:
            self.values, self.keys = self._compute()
            self._compute = None

    def value(self, path: Path) -> Span | None:
        self._ready()
        return self.values.get(path)

    def key(self, path: Path) -> Span | None:
        self._ready()
        return self.keys.get(path)


@dataclass(frozen=True)
class Decoded:
    data: Any
    marks: Marks
    text: str


def decode_bytes(raw: bytes, *, limits: Limits = Limits(), pure: bool = False
                 ) -> Decoded:
    """Decode template bytes. `pure` forces the pure-Python YAML parser (for tests)."""
    if len(raw) > limits.max_bytes:
        raise DecodeError(f"file is {len(raw)} bytes, over the {limits.max_bytes}-byte limit")
    text = bytes_to_text(raw)
    return decode_text(text, limits=limits, pure=pure)


def bytes_to_text(raw: bytes) -> str:
    """UTF-8 (BOM optional), or UTF-16/32 with a BOM. NUL bytes in UTF-8 mean a binary file."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"invalid {codec.upper()} text: {exc.reason}") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    nul = raw.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(raw, nul)
        raise DecodeError("binary file (NUL byte), not a template", line, column)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(raw, exc.start)
        raise DecodeError(f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", line, column) from None


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")


def decode_text(text: str, *, limits: Limits = Limits(), pure: bool = False
                ) -> Decoded:
    if looks_like_json(text):
        try:
            return _decode_json(text, limits)
        except _NotJson:
            pass  # flow-style YAML that starts with a brace; the YAML parser decides
        except _JsonSyntax as json_error:
            # JSON is YAML's flow syntax, which also accepts what CloudFormation's own tools
            # accept beyond strict JSON (trailing commas). Only when YAML fails too is the
            # text broken, and the JSON error, which knows it was meant as JSON, is reported.
            try:
                return _decode_yaml(text, limits, pure)
            except DecodeError:
                raise json_error.error from None
    return _decode_yaml(text, limits, pure)


# --------------------------------------------------------------------------------------- JSON


class _NotJson(Exception):
    pass


class _JsonSyntax(Exception):
    def __init__(self, error: DecodeError) -> None:
        super().__init__(str(error))
        self.error = error


def _json_syntax_error(text: str, exc: json.JSONDecodeError) -> DecodeError:
    """The JSON error at the character that is wrong. The decoder stops at the next token,
    often on the next line: a missing `,` or `:` belongs right after the previous token, and
    a value expected after a `,` means that comma is one too many."""
    before = text[:exc.pos].rstrip()
    if before and "\n" in text[len(before):exc.pos]:
        if exc.msg in ("Expecting ',' delimiter", "Expecting ':' delimiter"):
            return DecodeError(f"invalid JSON: {exc.msg}", *_position(text, len(before)))
        if before.endswith(",") and exc.msg.startswith("Expecting"):
            return DecodeError("invalid JSON: trailing comma", *_position(text, len(before) - 1))
    return DecodeError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateJsonKey(key)
            seen.add(key)
    return result


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _JsonConstant(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _JsonConstant(name)


def _decode_json(text: str, limits: Limits) -> Decoded:
    try:
        data = json.loads(text, object_pairs_hook=_reject_duplicates,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        if _yaml_might_accept(text):
            raise _NotJson from None
        raise _JsonSyntax(_json_syntax_error(text, exc)) from None
    except _JsonConstant as exc:
        # Python's decoder accepts NaN and Infinity; JSON and CloudFormation do not.
        line, column, _ = _first_outside_strings(text, r"-?Infinity|NaN") or (1, 1, "")
        raise DecodeError(f"invalid JSON: `{exc}` is not a JSON number", line, column) from None
    except ValueError:  # not a JSONDecodeError: an integer over Python's digit limit
        found = _first_outside_strings(
            text, rf"(?<![\d.eE+-])-?\d{{{sys.get_int_max_str_digits() + 1},}}(?![.eE\d])")
        line, column, number = found or (1, 1, "")
        raise DecodeError(f"invalid JSON: {_too_large(number)}", line, column) from None
    except _DuplicateJsonKey as exc:
        scanner = _JsonScanner(text, limits.max_depth, stop_on_duplicate=True)
        scanner.run()
        line, column = scanner.duplicate_at or (1, 1)
        raise DecodeError(f"duplicate key {exc.key!r}", line, column) from None
    except RecursionError:
        scanner = _JsonScanner(text, limits.max_depth)
        scanner.run()  # raises at the first place deeper than the limit
        raise DecodeError(f"nesting deeper than {limits.max_depth} levels") from None
    if not isinstance(data, dict):
        raise _root_error(data)
    if _SURROGATE_ESCAPE.search(text):
        _reject_lone_surrogates(text)
    marks = Marks(_compute=lambda: _JsonScanner(text, limits.max_depth).run())
    # Depth is checked eagerly: the C decoder accepts far deeper nesting than we allow.
    if _json_depth_exceeds(text, limits.max_depth):
        _JsonScanner(text, limits.max_depth).run()
    return Decoded(data, marks, text)


_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _reject_lone_surrogates(text: str) -> None:
    """A `\\ud800` escape without its pair decodes to a string no output can encode (and YAML
    refuses the same escape): the first string holding one is an error."""
    for match in re.finditer(_JSON_STRING, text):
        token = match.group()
        if "\\u" in token and _SURROGATE.search(json.loads(token)):
            line, column = _line_column(text, match.start())
            raise DecodeError("invalid JSON: a string holds a lone UTF-16 surrogate "
                              "(`\\ud800`-`\\udfff` without its pair), not a character",
                              line, column)


def _first_outside_strings(text: str, pattern: str) -> tuple[int, int, str] | None:
    """1-based line and column, and the text, of the first match of `pattern` that is not
    inside a string."""
    for match in re.finditer(f"{_JSON_STRING}|(?P<found>{pattern})", text):
        found = match.group("found")
        if found is not None:
            return (*_line_column(text, match.start()), found)
    return None


def _too_large(number: str) -> str:
    return f"integer too large ({len(number)} characters)"


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def parse_json_text(text: str, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """JSON held in a template string (a dashboard body, Glue `Tags`, a policy or redrive
    policy given as text), read within the decoder's limits. Raises ValueError when the text is
    not JSON, nests deeper than `max_depth`, or holds `NaN`/`Infinity` or an integer too long to
    convert: never RecursionError, however deep the text nests."""
    if _json_depth_exceeds(text, max_depth):
        raise ValueError(f"nesting deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except _JsonConstant as exc:
        raise ValueError(f"`{exc}` is not a JSON number") from None
    except RecursionError:  # not expected within the depth limit; never let it escape
        raise ValueError(f"nesting deeper than {max_depth} levels") from None


def _yaml_might_accept(text: str) -> bool:
    """Flow-style YAML with unquoted keys or tags also starts with a brace."""
    return re.search(r"!\w|\{\s*[A-Za-z_][\w:]*\s*:", text[:4096]) is not None


def _json_depth_exceeds(text: str, max_depth: int) -> bool:
    # Cheap upper bound: the count of opening brackets bounds the depth.
    if text.count("{") + text.count("[") <= max_depth:
        return False
    depth = 0
    for match in _JSON_BRACKETS.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            if depth > max_depth:
                return True
        elif token in "}]":
            depth -= 1
    return False


_JSON_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_JSON_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[{}\[\]:,])|'
    r"(?P<atom>-?\d[\d.eE+-]*|true|false|null))"
)


class _JsonScanner:
    """Walks JSON text iteratively and records the span of every key and value."""

    def __init__(self, text: str, max_depth: int, stop_on_duplicate: bool = False) -> None:
        self.text = text
        self.max_depth = max_depth
        self.stop_on_duplicate = stop_on_duplicate
        self.duplicate_at: tuple[int, int] | None = None
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self.values: dict[Path, Span] = {}
        self.keys: dict[Path, Span] = {}

    def _position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, offset - self.line_starts[line]

    def run(self) -> tuple[dict[Path, Span], dict[Path, Span]]:
        """Tokens arrive in text order and none spans a line break (JSON strings cannot hold a
        raw newline), so the line is tracked incrementally rather than searched per token."""
        # Stack entries: [path, is_object, next_index, (line, column) of the opening, seen_keys]
        stack: list[list[Any]] = []
        pending_key: str | None = None
        values, keys = self.values, self.keys
        line_starts = self.line_starts
        line, line_start = 0, 0
        next_line_start = line_starts[1] if len(line_starts) > 1 else len(self.text) + 1
        for match in _JSON_TOKEN.finditer(self.text):
            kind = match.lastgroup or ""
            start, end = match.span(kind)
            while start >= next_line_start:
                line += 1
                line_start = next_line_start
                next_line_start = (line_starts[line + 1] if line + 1 < len(line_starts)
                                   else len(self.text) + 1)
            column = start - line_start
            token = match.group(kind)
            if kind == "punct":
                if token in ",:":
                    continue
                if token in "}]":
                    if not stack:
                        break
                    path, _, _, opened, _ = stack.pop()
                    values[path] = (*opened, line, column + 1)
                    continue
            span = (line, column, line, column + end - start)
            if stack and stack[-1][1] and pending_key is None:
                # A key of the enclosing object.
                frame = stack[-1]
                if kind == "str":
                    pending_key = token[1:-1] if "\\" not in token else json.loads(token)
                else:
                    pending_key = token
                if pending_key in frame[4]:
                    self.duplicate_at = (line + 1, column + 1)
                    if self.stop_on_duplicate:
                        break
                frame[4].add(pending_key)
                keys[(*frame[0], pending_key)] = span
                continue
            if stack:
                frame = stack[-1]
                if frame[1]:
                    path = (*frame[0], pending_key)
                    pending_key = None
                else:
                    path = (*frame[0], frame[2])
                    frame[2] += 1
            else:
                path = ()
            if kind == "punct":  # { or [
                if len(stack) >= self.max_depth:
                    raise DecodeError(f"nesting deeper than {self.max_depth} levels",
                                      line + 1, column + 1)
                stack.append([path, token == "{", 0, (line, column), set()])
            else:
                values[path] = span
        return values, keys


def _root_error(root: Any) -> DecodeError:
    if root is None:
        return DecodeError("the document is empty (no YAML content), not a template mapping")
    return DecodeError(f"the document root is a {_kind(root)}, not a mapping")


def _kind(value: Any) -> str:
    if value is None:
        return "empty document"
    if isinstance(value, list):
        return "list"
    return type(value).__name__ if not isinstance(value, str) else "string"


# --------------------------------------------------------------------------------------- YAML

_resolver = Resolver()
_constructor = SafeConstructor()
_STR = _CORE_TAG + "str"


class _BadScalar(Exception):
    """A scalar that cannot become the type its tag names (`!!int abc`, 5,000 digits)."""


# Integers are printed in messages and reports: none may exceed what `str(int)` converts
# (Python refuses more than 4,300 decimal digits; 14,000 bits stay below that).
_MAX_INT_BITS = 14_000


def _checked_int(node: yaml.ScalarNode) -> int:
    text = node.value
    try:
        number: int | None = int(_constructor.construct_yaml_int(node))
    except ValueError:
        number = None
    if number is None or number.bit_length() > _MAX_INT_BITS:
        if len(text) > 1000:
            raise _BadScalar(_too_large(text))
        raise _BadScalar(f"`{text}` is not an integer")
    return number


def _scalar_value(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    value = event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value  # quoted: always a string
        tag = _resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]  # PyYAML's resolver is untyped
    if tag == _STR:
        return value
    node = yaml.ScalarNode(tag, value)
    if tag == _CORE_TAG + "int":
        return _checked_int(node)
    try:
        if tag == _CORE_TAG + "float":
            return _constructor.construct_yaml_float(node)
        if tag == _CORE_TAG + "bool":
            return _constructor.construct_yaml_bool(node)
    except (ValueError, KeyError):
        raise _BadScalar(f"`{value[:100]}` is not a {tag[len(_CORE_TAG):]}") from None
    if tag == _CORE_TAG + "null":
        return None
    # Timestamps and the rest stay text: CloudFormation reads them as strings.
    return value


def _yaml_error(exc: yaml.MarkedYAMLError | yaml.YAMLError) -> DecodeError:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if "maximum nesting depth" in problem:  # libyaml's own guard, hit before ours in flow
            problem = "nesting deeper than the YAML parser's limit"
        context = f" {exc.context}" if exc.context else ""
        message = f"invalid YAML: {problem}{context}".strip()
        if mark is not None:
            return DecodeError(message, mark.line + 1, mark.column + 1)
        return DecodeError(message)
    return DecodeError(f"invalid YAML: {exc}")


def _loader(text: str, pure: bool) -> Any:
    loader_class: Any = yaml.SafeLoader if pure else getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader_class(text)


class _Frame:
    """An open mapping or sequence. `outer` is where its value attaches; `path` is the base of
    its children's paths, which includes the function name under a short-form tag
    (`!If [...]` at P has children at P + ("Fn::If", i), as the long-form data does)."""

    __slots__ = ("container", "is_map", "key", "key_span", "outer", "path", "start", "tag")

    def __init__(self, container: Any, is_map: bool, outer: Path, start: tuple[int, int],
                 tag: str | None) -> None:
        self.container = container
        self.is_map = is_map
        self.key: str | None = None
        self.key_span: Span | None = None
        self.outer = outer
        intrinsic = SHORT_TAGS.get(tag) if tag is not None else None
        self.path = (*outer, intrinsic) if intrinsic else outer
        self.start = start
        self.tag = tag


# Implicit resolution of plain scalars, as PyYAML's Resolver does it, without a call per scalar.
_IMPLICIT: dict[str | None, list[tuple[str, re.Pattern[str]]]] = Resolver.yaml_implicit_resolvers
_BOOLS = SafeConstructor.bool_values


def _plain_scalar(value: str) -> Any:
    """An untagged plain scalar: int, float, bool, null or text (timestamps stay text)."""
    for tag, pattern in _IMPLICIT.get(value[:1], ()):
        if pattern.match(value):
            kind = tag[len(_CORE_TAG):]
            if kind == "int":
                if value.isascii() and value.isdigit() and (value[0] != "0" or value == "0") \
                        and len(value) <= 1000:
                    return int(value)
                node = yaml.ScalarNode(tag, value)
                return _checked_int(node)
            if kind == "bool":
                return _BOOLS[value.lower()]
            if kind == "null":
                return None
            if kind == "float":
                return _constructor.construct_yaml_float(yaml.ScalarNode(tag, value))
            return value
    return value


def _decode_yaml(text: str, limits: Limits, pure: bool) -> Decoded:
    """The event loop is the hot path of a scan: dispatch on the exact event class, with the
    untagged scalar (most events) handled inline."""
    values: dict[Path, Span] = {}
    keys: dict[Path, Span] = {}
    stack: list[_Frame] = []
    root: Any = None
    documents = 0
    max_depth = limits.max_depth
    scalar_event, mapping_start = yaml.ScalarEvent, yaml.MappingStartEvent
    sequence_start, alias_event = yaml.SequenceStartEvent, yaml.AliasEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    skipped = (yaml.StreamStartEvent, yaml.DocumentEndEvent)
    loader = _loader(text, pure)
    get_event = loader.get_event
    try:
        while True:
            event = get_event()
            cls = type(event)
            if cls is scalar_event or cls is mapping_start or cls is sequence_start:
                if event.anchor is not None:
                    raise _at(event, "YAML anchors are not allowed in CloudFormation templates")
            elif cls in ends:
                closed = stack.pop()
                end = event.end_mark
                span = (*closed.start, end.line, end.column)
                value = _apply_tag(closed.tag, closed.container) if closed.tag else \
                    closed.container
                values[closed.outer] = span
                values[closed.path] = span
                if not stack:
                    root = value
                    continue
                frame = stack[-1]
                if frame.is_map:
                    frame.container[frame.key] = value
                    keys[closed.outer] = frame.key_span  # type: ignore[assignment]
                    frame.key = None
                else:
                    frame.container.append(value)
                continue
            elif cls is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _at(event, "more than one YAML document in the file")
                continue
            elif cls in skipped:
                continue
            elif cls is alias_event:
                raise _at(event, "YAML aliases are not allowed in CloudFormation templates")
            else:  # StreamEndEvent (or None past the end)
                break
            frame = stack[-1] if stack else None  # type: ignore[assignment]
            start, end = event.start_mark, event.end_mark
            if frame is not None and frame.is_map and frame.key is None:
                # This event is a mapping key.
                if cls is not scalar_event:
                    raise _at(event, "mapping keys must be plain strings")
                if event.tag not in (None, "!", _STR):
                    raise _at(event, f"a tag ({event.tag}) is not allowed on a mapping key")
                key = event.value
                if key in frame.container:
                    raise _at(event, f"duplicate key {key!r}")
                frame.key = key
                frame.key_span = (start.line, start.column, end.line, end.column)
                continue
            if frame is None:
                path: Path = ()
            elif frame.is_map:
                path = (*frame.path, frame.key)  # type: ignore[arg-type]  # the key event set it
            else:
                path = (*frame.path, len(frame.container))
            tag = event.tag
            if tag is not None:
                _check_tag(tag, event)
            if cls is scalar_event:
                if tag is None:
                    value = _plain_scalar(event.value) if event.implicit[0] else event.value
                else:
                    value = _apply_tag(tag, _scalar_value(event))
                    intrinsic = SHORT_TAGS.get(tag)
                    if intrinsic:
                        values[(*path, intrinsic)] = (start.line, start.column, end.line,
                                                      end.column)
                values[path] = (start.line, start.column, end.line, end.column)
                if frame is None:
                    root = value
                elif frame.is_map:
                    frame.container[frame.key] = value
                    keys[path] = frame.key_span  # type: ignore[assignment]
                    frame.key = None
                else:
                    frame.container.append(value)
            else:
                if len(stack) >= max_depth:
                    raise _at(event, f"nesting deeper than {max_depth} levels")
                is_map = cls is mapping_start
                stack.append(_Frame({} if is_map else [], is_map, path,
                                    (start.line, start.column), tag))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except _BadScalar as exc:
        raise _at(event, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(root, dict):
        raise _root_error(root)
    return Decoded(root, Marks(values, keys), text)


def _at(event: Any, message: str) -> DecodeError:
    return DecodeError(message, event.start_mark.line + 1, event.start_mark.column + 1)


def _check_tag(tag: str | None, event: Any) -> None:
    if tag is None or tag == "!" or tag in SHORT_TAGS:
        return
    if tag.startswith(_CORE_TAG) and tag[len(_CORE_TAG):] in _CORE_KINDS:
        return
    raise _at(event, f"unknown tag {tag}")


_CORE_KINDS = frozenset({"map", "seq", "str", "int", "float", "bool", "null"})


def _apply_tag(tag: str | None, value: Any) -> Any:
    """Short-form intrinsics become their long form; core tags were applied on construction."""
    if tag is None:
        return value
    name = SHORT_TAGS.get(tag)
    if name is None:
        return value
    return {name: _short_form_value(tag, value)}


def _short_form_value(tag: str, value: Any) -> Any:
    if tag == "!GetAtt" and isinstance(value, str):
        resource, dot, attribute = value.partition(".")
        return [resource, attribute] if dot else value
    if tag == "!GetAZs" and value is None:
        return ""
    return value
