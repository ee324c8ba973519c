"""Decoding YAML and JSON: short tags, locations, encodings, and every error class."""

from __future__ import annotations

import json

import pytest

from cfnaudit.decode import DecodeError, Limits, decode_bytes, decode_text, parse_json_text

BOTH = pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "pure-python"])

SHORT_TAGS = {
    "!Ref X": {"Ref": "X"},
    "!Condition C": {"Condition": "C"},
    "!Sub 'a-${X}'": {"Fn::Sub": "a-${X}"},
    "!Sub ['a-${V}', {V: 1}]": {"Fn::Sub": ["a-${V}", {"V": 1}]},
    "!GetAtt A.B": {"Fn::GetAtt": ["A", "B"]},
    "!GetAtt A.B.C": {"Fn::GetAtt": ["A", "B.C"]},
    "!GetAtt [A, B]": {"Fn::GetAtt": ["A", "B"]},
    "!If [C, 1, 2]": {"Fn::If": ["C", 1, 2]},
    "!Join ['-', [a, b]]": {"Fn::Join": ["-", ["a", "b"]]},
    "!Select [0, [a]]": {"Fn::Select": [0, ["a"]]},
    "!Split [',', 'a,b']": {"Fn::Split": [",", "a,b"]},
    "!FindInMap [M, K, V]": {"Fn::FindInMap": ["M", "K", "V"]},
    "!Base64 text": {"Fn::Base64": "text"},
    "!Cidr [10.0.0.0/16, 4, 8]": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
    "!GetAZs ''": {"Fn::GetAZs": ""},
    "!GetAZs": {"Fn::GetAZs": ""},
    "!ImportValue shared-vpc": {"Fn::ImportValue": "shared-vpc"},
    "!Equals [a, b]": {"Fn::Equals": ["a", "b"]},
    "!And [true, false]": {"Fn::And": [True, False]},
    "!Or [true, false]": {"Fn::Or": [True, False]},
    "!Not [true]": {"Fn::Not": [True]},
    "!Transform {Name: M}": {"Fn::Transform": {"Name": "M"}},
}


@BOTH
@pytest.mark.parametrize("source", sorted(SHORT_TAGS))
def test_short_tags_become_long_form(source: str, pure: bool) -> None:
    decoded = decode_text(f"Value: {source}\n", pure=pure)
    assert decoded.data == {"Value": SHORT_TAGS[source]}


@BOTH
def test_scalar_types_follow_yaml_and_cloudformation(pure: bool) -> None:
    text = ("a: true\nb: 'true'\nc: 10\nd: 1.5\ne: ~\nf: 2010-09-09\ng: 0x10\nh: yes\n"
            "i: !!str 5\nj: '007'\nYes: key stays text\n")
    data = decode_text(text, pure=pure).data
    assert data == {"a": True, "b": "true", "c": 10, "d": 1.5, "e": None, "f": "2010-09-09",
                    "g": 16, "h": True, "i": "5", "j": "007", "Yes": "key stays text"}


TEMPLATE = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: false
      Count: 3
      Tags:
        - Key: Env
          Value: !Ref Env
"""


@BOTH
def test_locations_of_keys_and_scalars(pure: bool) -> None:
    marks = decode_text(TEMPLATE, pure=pure).marks
    props = ("Resources", "Key", "Properties")
    # 0-based (line, column, end_line, end_column)
    assert marks.key((*props, "EnableKeyRotation")) == (4, 6, 4, 23)
    assert marks.value((*props, "EnableKeyRotation")) == (4, 25, 4, 30)
    assert marks.value((*props, "Count")) == (5, 13, 5, 14)
    assert marks.key(("Resources", "Key")) == (1, 2, 1, 5)
    assert marks.value((*props, "Tags", 0, "Value")) == (8, 17, 8, 25)
    assert marks.value((*props, "Tags", 0))[:2] == (7, 10)


def test_pure_python_and_libyaml_agree_on_data_and_marks() -> None:
    fast, slow = decode_text(TEMPLATE), decode_text(TEMPLATE, pure=True)
    assert fast.data == slow.data
    assert fast.marks.values == slow.marks.values
    assert fast.marks.keys == slow.marks.keys


def test_json_locations() -> None:
    text = json.dumps(decode_text(TEMPLATE).data, indent=2)
    decoded = decode_text(text)
    assert decoded.data == decode_text(TEMPLATE).data
    lines = text.splitlines()
    line, column, _, end = decoded.marks.value(
        ("Resources", "Key", "Properties", "EnableKeyRotation"))
    assert lines[line][column:end] == "false"
    key = decoded.marks.key(("Resources", "Key", "Properties", "Count"))
    assert lines[key[0]][key[1]:key[3]] == '"Count"'


@pytest.mark.parametrize("raw", [
    b"\xef\xbb\xbfResources: {}\r\n",            # UTF-8 BOM and CRLF
    "Resources: {}\r\n".encode("utf-16"),         # UTF-16 with BOM
    b'\xef\xbb\xbf{"Resources": {}}',            # JSON with a BOM
])
def test_bom_and_crlf(raw: bytes) -> None:
    assert decode_bytes(raw).data == {"Resources": {}}


def test_crlf_lines_count_like_lf() -> None:
    crlf = decode_text(TEMPLATE.replace("\n", "\r\n"))
    assert crlf.marks.values == decode_text(TEMPLATE).marks.values


def _error(text: str | bytes, **limits: int) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        raw = text if isinstance(text, bytes) else text.encode()
        decode_bytes(raw, limits=Limits(**limits))
    return caught.value


@pytest.mark.parametrize(("text", "line", "column", "words"), [
    ("a: 1\na: 2\n", 2, 1, "duplicate key 'a'"),
    ('{"a": 1,\n "a": 2}', 2, 2, "duplicate key 'a'"),
    ("a: &x 1\nb: *x\n", 1, 4, "anchors are not allowed"),
    ("- 1\n- 2\n", 1, 1, "root is a list"),
    ("just text\n", 1, 1, "root is a string"),
    ("a: [1, 2\nb: 3\n", 2, 2, "invalid YAML: "),
    ('{"a": 1\n "b": 2}', 1, 8, "invalid JSON: Expecting ',' delimiter"),
    ('{"a": [1,\n  ,]}', 1, 9, "invalid JSON: trailing comma"),
    ('{"a": "x}', 1, 7, "invalid JSON: Unterminated string"),
    ("a: !Unknown x\n", 1, 4, "unknown tag !Unknown"),
    ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"),
    ("? [a, b]\n: c\n", 1, 3, "mapping keys must be plain strings"),
    (b"a: 1\nb: \xff\n", 2, 4, "invalid UTF-8 byte 0xff"),
    (b"a: 1\x00\n", 1, 5, "binary file"),
])
def test_decode_errors_have_locations(text: str | bytes, line: int, column: int,
                                      words: str) -> None:
    error = _error(text)
    assert words in error.message
    assert (error.line, error.column) == (line, column)


@pytest.mark.parametrize("text", [
    '{"Resources": {"T": {"Type": "AWS::SNS::Topic",},},}',
    '{\n  "Resources": {\n    "T": {"Type": "AWS::SNS::Topic"},\n  },\n  "Outputs": [1, 2,],\n}\n',
])
def test_json_with_trailing_commas_is_read_as_yaml_flow(text: str) -> None:
    decoded = decode_text(text)
    assert decoded.data["Resources"] == {"T": {"Type": "AWS::SNS::Topic"}}
    assert decoded.marks.key(("Resources", "T")) is not None


def test_nesting_deeper_than_the_limit_is_an_error_not_a_crash() -> None:
    deep_flow = "a: " + "[" * 100_000 + "]" * 100_000
    error = _error(deep_flow)
    assert "nesting deeper than" in error.message
    assert error.line == 1
    deep_block = "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 200))
    error = _error(deep_block)
    assert "nesting deeper than 100 levels" in error.message
    assert (error.line, error.column) == (101, 201)
    deep_json = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    error = _error(deep_json)
    assert "nesting deeper than 100 levels" in error.message
    assert (error.line, error.column) == (1, 106)


def test_depth_limit_is_configurable() -> None:
    assert "nesting deeper than 3" in _error("a: {b: {c: {d: 1}}}", max_depth=3).message
    assert decode_text("a: {b: {c: 1}}", limits=Limits(max_depth=3)).data


def test_size_limit() -> None:
    assert "over the 10-byte limit" in _error("a: 123456789012", max_bytes=10).message


def test_alias_bomb_is_refused_at_the_first_anchor() -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n" * 3
    assert "anchors are not allowed" in _error(bomb).message


@BOTH
def test_short_form_children_are_located_under_the_long_form_path(pure: bool) -> None:
    text = "Value: !If\n  - IsProd\n  - !Ref A\n  - !GetAtt B.Arn\n"
    decoded = decode_text(text, pure=pure)
    marks = decoded.marks
    assert decoded.data == {"Value": {"Fn::If": ["IsProd", {"Ref": "A"},
                                                 {"Fn::GetAtt": ["B", "Arn"]}]}}
    assert marks.value(("Value", "Fn::If", 1))[:2] == (2, 4)
    assert marks.value(("Value", "Fn::If", 1, "Ref"))[:2] == (2, 4)
    assert marks.value(("Value", "Fn::If", 2, "Fn::GetAtt"))[:2] == (3, 4)
    assert marks.value(("Value",))[:2] == marks.value(("Value", "Fn::If"))[:2] == (0, 7)
    assert marks.key(("Value",)) == (0, 0, 0, 5)
    json_marks = decode_text(json.dumps(decoded.data)).marks
    assert json_marks.value(("Value", "Fn::If", 2, "Fn::GetAtt")) is not None


# ------------------------------------------------------------------- JSON inside strings


def test_json_text_is_read_within_the_decoders_limits() -> None:
    assert parse_json_text('{"widgets": [{"type": "metric"}]}') == {
        "widgets": [{"type": "metric"}]}
    assert parse_json_text("[" * 100 + "]" * 100) == parse_json_text("[" * 100 + "]" * 100)
    for deep in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000):
        with pytest.raises(ValueError, match="nesting deeper than 100 levels"):
            parse_json_text(deep)
    with pytest.raises(ValueError, match="nesting deeper than 3 levels"):
        parse_json_text("[[[[1]]]]", max_depth=3)
    assert parse_json_text('["[[[[[[", "]"]', max_depth=1) == ["[[[[[[", "]"]  # text, not depth


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "9" * 5000, "{",
                                  '{"a": 1} x'])
def test_json_text_refuses_what_json_does_not_allow(text: str) -> None:
    with pytest.raises(ValueError):
        parse_json_text(text)


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ('{\n  "Resources": {"Q": {"Type": "T", "Properties": {"A": NaN}}}}', 2, 56, "`NaN`"),
    ('{"Resources": {"Q": {"Type": "T", "Properties": {"A": "NaN", "B": -Infinity}}}}', 1, 67,
     "`-Infinity`"),
    ('{"Resources": {"Q\\ud800": {"Type": "T"}}}', 1, 16, "lone UTF-16 surrogate"),
    ('{"Resources": {"Q": {"Type": "T", "Properties": {"A": "\\udfff"}}}}', 1, 55,
     "lone UTF-16 surrogate"),
    ('{"Resources": {"Q": {"Type": "T", "Properties": {"A": ' + "1" * 4301 + "}}}}", 1, 55,
     "integer too large (4301 characters)"),
])
def test_json_refuses_nan_lone_surrogates_and_huge_integers_at_their_place(
        text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_text(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in caught.value.message


def test_json_keeps_surrogate_pairs_and_escaped_backslashes() -> None:
    data = decode_text('{"Resources": {"Q": {"Type": "T", "Properties": '
                       '{"A": "\\ud83d\\ude00", "B": "\\\\ud800"}}}}').data
    assert data["Resources"]["Q"]["Properties"] == {"A": "\U0001f600", "B": "\\ud800"}


@pytest.mark.parametrize(("value", "message"), [
    ("9" * 5000, "integer too large (5000 characters)"),
    ("-" + "9" * 5000, "integer too large (5001 characters)"),
    ("0x" + "f" * 4000, "integer too large (4002 characters)"),
    ("!!int abc", "`abc` is not an integer"),
    ("!!float abc", "`abc` is not a float"),
    ("!!bool abc", "`abc` is not a bool"),
])
def test_yaml_scalars_that_cannot_be_their_type_are_located_errors(value: str,
                                                                   message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_text(f"Resources:\n  Q:\n    Type: T\n    Properties:\n      A: {value}\n")
    assert (caught.value.line, caught.value.column) == (5, 10)
    assert message in caught.value.message


def test_yaml_integers_of_every_form_still_read() -> None:
    data = decode_text("Resources:\n  Q: {A: 0x1f, B: 017, C: 1_000, D: " + "9" * 4000
                       + ", E: !!int '12'}\n").data
    assert data["Resources"]["Q"] == {"A": 31, "B": 15, "C": 1000, "D": int("9" * 4000),
                                      "E": 12}
