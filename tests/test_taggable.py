"""The taggable-types table and its generator."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from cfnaudit.rule import tag_property, taggable_types
from cfnaudit.taggable import TagProperty

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "generate_taggable_types.py"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate_taggable_types", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("type_name", "expected"), [
    ("AWS::S3::Bucket", TagProperty("Tags", "list")),
    ("AWS::Lambda::Function", TagProperty("Tags", "list")),
    ("AWS::Glue::Job", TagProperty("Tags", "map")),  # JSON object, not a Key/Value list
    ("AWS::SSM::Parameter", TagProperty("Tags", "map")),
    ("AWS::Cognito::UserPool", TagProperty("UserPoolTags", "map")),
    ("AWS::Backup::BackupVault", TagProperty("BackupVaultTags", "map")),
])
def test_taggable_types_record_property_and_form(type_name: str,
                                                 expected: TagProperty) -> None:
    assert tag_property(type_name) == expected


@pytest.mark.parametrize("type_name", [
    "AWS::Lambda::Permission",  # tagging.taggable is false
    "AWS::EC2::SpotFleet",  # declares Tags but the schema says it is not taggable
    "AWS::Glue::Table",  # no tagging block and no Tags property
    "AWS::EC2::CapacityReservation",  # tags nested under TagSpecifications: left out
    "Custom::ScriptUploader",
    "AWS::Serverless::Function",
])
def test_untaggable_or_unknown_types_have_no_tag_property(type_name: str) -> None:
    assert tag_property(type_name) is None
    assert type_name not in taggable_types()


def test_generator_reads_schema_shapes() -> None:
    gen = _generator()
    tag = {"type": "object", "properties": {"Key": {}, "Value": {}}}
    listed = {"properties": {"Tags": {"type": "array", "items": {"$ref": "#/definitions/T"}}},
              "definitions": {"T": tag}, "tagging": {"taggable": True}}
    assert gen.describe_type(listed) == {"property": "Tags", "form": "list"}
    mapped = {"properties": {"Labels": {"type": "object", "patternProperties": {".*": {}}}},
              "tagging": {"taggable": True, "tagProperty": "/properties/Labels"}}
    assert gen.describe_type(mapped) == {"property": "Labels", "form": "map"}
    assert gen.describe_type({"properties": {"Tags": {"type": "array"}},
                              "tagging": {"taggable": False}}) is None
    assert gen.describe_type({"properties": {"Tags": {"type": "array"}}}) == {
        "property": "Tags", "form": "list"}  # older schema without a tagging block
    assert gen.describe_type({"properties": {"Name": {"type": "string"}}}) is None
    nested = {"properties": {"TagSpecifications": {"type": "array"}},
              "tagging": {"taggable": True, "tagProperty": "/properties/TagSpecifications/*/Tags"}}
    assert gen.describe_type(nested) is None


def test_committed_table_matches_the_schemas() -> None:
    pytest.importorskip("cfnlint")
    assert _generator().main(["--check"]) == 0, "run tools/generate_taggable_types.py"
