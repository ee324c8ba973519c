"""Typed reads (cfnaudit.typed) and types at the door (cfnaudit.template)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from helpers import template_from

from cfnaudit.intrinsics import NO_VALUE, Unresolved
from cfnaudit.rule import read_bool, read_int, read_list, read_mapping, read_text

TEMPLATE = template_from("""
    Parameters:
      Port: {Type: Number, Default: "8080"}
      Open: {Type: String}
      Zones: {Type: CommaDelimitedList, Default: "a, b"}
    Conditions:
      IsProd: !Equals [!Ref AWS::Region, us-east-1]
    Resources:
      Topic: {Type: AWS::SNS::Topic}
""")
PROD = (("IsProd", True),)


def _reason(value: Any) -> str:
    assert isinstance(value, Unresolved), value
    return value.reason


@pytest.mark.parametrize(("value", "expected"), [
    (7, 7), ("7", 7), (" 8 ", 8), (7.0, 7), ("7.0", 7), (-1, -1), (2**63 - 1, 2**63 - 1),
    ({"Ref": "Port"}, 8080), ({"Fn::If": ["IsProd", 1, 2]}, 1), (None, None), (NO_VALUE, None),
    ({"Ref": "AWS::NoValue"}, None),
])
def test_read_int_accepts_whole_numbers(value: Any, expected: int | None) -> None:
    assert read_int(value, TEMPLATE, PROD, "Port") == expected


@pytest.mark.parametrize(("value", "reason"), [
    (True, "`FromPort` is a boolean, not a number"),
    ([80], "`FromPort` is a list, not a number"),
    ({"a": 1}, "`FromPort` is a mapping, not a number"),
    (math.inf, "`FromPort` is not a finite number"),
    (-math.inf, "`FromPort` is not a finite number"),
    (math.nan, "`FromPort` is not a finite number"),
    ("nan", "`FromPort` is not a finite number"),
    (7.5, "`FromPort` is not a whole number"),
    (10**40, "`FromPort` is out of range"),
    ("1" * 5000, "`FromPort` is not a number"),
    ("1_000", "`FromPort` is `1_000`, not a number"),
    ("eighty", "`FromPort` is `eighty`, not a number"),
    ({"Ref": "Open"}, "parameter `Open` has no default"),
    ({"Fn::Select": [math.inf, [1]]}, "the `Fn::Select` index is out of range"),
])
def test_read_int_says_why_a_value_is_no_number(value: Any, reason: str) -> None:
    assert _reason(read_int(value, TEMPLATE, what="FromPort")) == reason


def test_read_text_turns_numbers_and_booleans_into_text_as_cloudformation_does() -> None:
    assert read_text(7, TEMPLATE) == "7"
    assert read_text(4.0, TEMPLATE) == "4.0"
    assert read_text(True, TEMPLATE) == "true"
    assert read_text({"Ref": "Port"}, TEMPLATE) == "8080"
    assert read_text(NO_VALUE, TEMPLATE) is None
    assert _reason(read_text(["Retain"], TEMPLATE, what="DeletionPolicy")) == \
        "`DeletionPolicy` is a list, not text"
    assert _reason(read_text(math.inf, TEMPLATE, what="x")) == \
        "`x` is not a finite number, not text"


def test_read_bool_reads_cloudformation_booleans_only() -> None:
    assert read_bool("True", TEMPLATE) is True
    assert read_bool(" false ", TEMPLATE) is False
    assert read_bool(None, TEMPLATE) is None
    assert _reason(read_bool(1, TEMPLATE, what="Enabled")) == \
        "`Enabled` is a number, not a boolean"
    assert _reason(read_bool("yes", TEMPLATE, what="Enabled")) == \
        "`Enabled` is text, not a boolean"


def test_read_list_drops_no_value_and_splits_list_parameters() -> None:
    value = ["a", {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}]
    assert read_list(value, TEMPLATE, PROD) == ["a", "b"]
    assert read_list(value, TEMPLATE, (("IsProd", False),)) == ["a"]
    assert read_list({"Ref": "AWS::NoValue"}, TEMPLATE) == []
    assert read_list({"Ref": "Zones"}, TEMPLATE) == ["a", "b"]
    assert _reason(read_list("sg-1", TEMPLATE, what="SecurityGroupIds")) == \
        "`SecurityGroupIds` is text, not a list"


def test_read_mapping_chooses_branches_and_rejects_other_shapes() -> None:
    value = {"Fn::If": ["IsProd", {"A": 1, "B": {"Ref": "AWS::NoValue"}}, {"Ref": "AWS::NoValue"}]}
    assert dict(read_mapping(value, TEMPLATE, PROD)) == {"A": 1}
    assert dict(read_mapping(value, TEMPLATE, (("IsProd", False),))) == {}
    assert _reason(read_mapping([1], TEMPLATE, what="Tags")) == "`Tags` is a list, not a mapping"


def test_unresolved_with_a_mapping_expression_can_be_a_set_member() -> None:
    first = Unresolved("parameter `X` has no default", {"Ref": "X"})
    assert {first, Unresolved("parameter `X` has no default", {"Ref": "Y"})} == {first}


# --------------------------------------------------------------------------- at the door


def _errors(text: str) -> list[tuple[str, tuple[Any, ...]]]:
    return [(e.message, e.path) for e in template_from(text).errors]


def test_resource_attributes_of_the_wrong_type_reach_no_rule() -> None:
    template = template_from("""
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Condition: [IsProd]
            DeletionPolicy: [Retain]
            UpdateReplacePolicy: !Ref Policy
            Metadata: text
    """)
    queue = template.resources["Queue"]
    assert (queue.condition, queue.deletion_policy, dict(queue.metadata)) == (None, None, {})
    assert queue.update_replace_policy == {"Ref": "Policy"}  # an intrinsic may name a policy
    assert [path[-1] for _, path in [(e.message, e.path) for e in template.errors]] == [
        "Condition", "Metadata", "DeletionPolicy"]


def test_properties_may_be_an_if_of_mappings_and_no_value() -> None:
    template = template_from("""
        Conditions:
          C: !Equals [!Ref AWS::Region, us-east-1]
        Resources:
          Subnet:
            Type: AWS::EC2::Subnet
            Properties: !If [C, {CidrBlock: 10.0.0.0/24}, !Ref AWS::NoValue]
          Bad:
            Type: AWS::EC2::Subnet
            Properties: !If [C, {CidrBlock: 10.0.0.0/24}, [1]]
    """)
    subnet = template.resources["Subnet"]
    assert subnet.properties == {"Fn::If": ["C", {"CidrBlock": "10.0.0.0/24"}, {}]}
    assert [(e.message, e.path) for e in template.errors] == [
        ("`Properties` of `Bad` must be a mapping", ("Resources", "Bad", "Properties"))]
    assert dict(template.resources["Bad"].properties) == {}


def test_parameters_with_values_of_the_wrong_type_have_no_value() -> None:
    template = template_from("""
        Parameters:
          Port: {Type: Number, Default: [80]}
          Zones: {Type: CommaDelimitedList, Default: [a, b], AllowedValues: {a: 1}}
        Resources:
          Topic: {Type: AWS::SNS::Topic}
    """)
    port, zones = template.parameters["Port"], template.parameters["Zones"]
    assert (port.has_value, port.default) == (False, None)
    assert (zones.has_value, zones.default, zones.allowed_values) == (True, ["a", "b"], ())
    assert [e.path for e in template.errors] == [
        ("Parameters", "Port", "Default"), ("Parameters", "Zones", "AllowedValues")]


def test_outputs_conditions_and_mappings_of_the_wrong_type() -> None:
    assert _errors("""
        Conditions:
          Broken: yes
        Mappings:
          Flat: {us-east-1: ami-1}
        Resources:
          Topic: {Type: AWS::SNS::Topic}
        Outputs:
          NoValue: {Description: nothing}
          Exported: {Value: x, Export: {Name: [a]}}
    """) == [
        ("condition `Broken` must be a condition function", ("Conditions", "Broken")),
        ("mapping `Flat` must be a mapping of mappings", ("Mappings", "Flat", "us-east-1")),
        ("output `NoValue` has no `Value`", ("Outputs", "NoValue")),
        ("`Export` of output `Exported` must be a mapping with a `Name`",
         ("Outputs", "Exported", "Export")),
    ]


def test_number_and_boolean_keys_are_text_from_the_decoder_on() -> None:
    """YAML `1:` and `true:` keys (and JSON keys, always strings) reach the model as text, as
    CloudFormation reads them: no rule ever meets a key that is not a string."""
    template = template_from("""
        Mappings:
          Ports:
            1: {true: 80}
        Resources:
          2: {Type: AWS::SNS::Topic}
    """)
    assert list(template.resources) == ["2"]
    assert template.mappings == {"Ports": {"1": {"true": 80}}}
