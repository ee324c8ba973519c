"""The typed reads the rules make agree with the CloudFormation resource provider schemas.

Rules choose a reader (`read_int`, `read_text`, ...) for each property they read; this checks
that choice against the property's type in the provider schemas that cfn-lint (a test
dependency) ships, so no table of property types is needed on the scan path.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "tools" / "generate_taggable_types.py"
SCHEMA_TYPES = {"int": {"integer"}, "text": {"string"}, "bool": {"boolean"},
                "list": {"array"}, "mapping": {"object"}}

# (resource type, property path with `*` for list items, reader) for the rules' typed reads.
READS = [
    ("AWS::EC2::SecurityGroup", "SecurityGroupIngress/*/FromPort", "int"),     # SG001
    ("AWS::EC2::SecurityGroup", "SecurityGroupIngress/*/ToPort", "int"),
    ("AWS::EC2::SecurityGroup", "SecurityGroupIngress/*/IpProtocol", "text"),
    ("AWS::EC2::SecurityGroup", "SecurityGroupEgress/*/FromPort", "int"),      # SG002
    ("AWS::EC2::SecurityGroupIngress", "FromPort", "int"),
    ("AWS::EC2::SecurityGroupIngress", "IpProtocol", "text"),
    ("AWS::S3::Bucket", "LifecycleConfiguration/Rules/*/Status", "text"),      # LCY001-004
    ("AWS::S3::Bucket", "LifecycleConfiguration/Rules/*/ExpirationInDays", "int"),
    ("AWS::S3::Bucket", "LifecycleConfiguration/Rules/*/Transitions/*/StorageClass", "text"),
    ("AWS::S3::Bucket", "LifecycleConfiguration/Rules/*/Transitions/*/TransitionInDays", "int"),
    ("AWS::S3::Bucket",
     "LifecycleConfiguration/Rules/*/AbortIncompleteMultipartUpload/DaysAfterInitiation", "int"),
    ("AWS::Lambda::Function", "ReservedConcurrentExecutions", "int"),         # LMB003, LMB005
    ("AWS::Lambda::EventInvokeConfig", "MaximumRetryAttempts", "int"),         # LMB002
    ("AWS::Lambda::EventInvokeConfig", "MaximumEventAgeInSeconds", "int"),
    ("AWS::Lambda::EventSourceMapping", "MaximumRetryAttempts", "int"),        # ESM rules
    ("AWS::Lambda::EventSourceMapping", "MaximumRecordAgeInSeconds", "int"),
    ("AWS::Lambda::EventSourceMapping", "ParallelizationFactor", "int"),       # LMB004
    ("AWS::Kinesis::Stream", "ShardCount", "int"),
    ("AWS::SQS::Queue", "MessageRetentionPeriod", "int"),                      # SQS002
    ("AWS::Glue::Job", "GlueVersion", "text"),                                 # GLU001
    ("AWS::CloudWatch::Alarm", "Dimensions/*/Name", "text"),                   # MON020
    ("AWS::CloudWatch::Alarm", "Dimensions", "list"),
]


@dataclass(frozen=True)
class Schemas:
    generator: Any  # tools/generate_taggable_types.py, which knows where cfn-lint keeps them
    root: Path
    index: dict[str, str]  # type name -> schema file hash


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    pytest.importorskip("cfnlint")
    spec = importlib.util.spec_from_file_location("generate_taggable_types", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    root, _ = module._schemas_dir()
    return Schemas(module, root, module._type_index())


def _schema_types(schemas: Schemas, type_name: str, path: str) -> set[str]:
    generator, root, digest = schemas.generator, schemas.root, schemas.index[type_name]
    schema = json.loads((root / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    node: Any = generator._deref(schema, schema)
    for part in path.split("/"):
        node = generator._deref(schema, node.get("items") if part == "*"
                                else node.get("properties", {}).get(part))
        assert isinstance(node, dict), f"{type_name}: no {part} in {path}"
    kind = node.get("type")
    return set(kind) if isinstance(kind, list) else {kind}


@pytest.mark.parametrize(("type_name", "path", "reader"), READS)
def test_rule_reads_match_the_schema_type(schemas: Schemas, type_name: str, path: str,
                                          reader: str) -> None:
    assert _schema_types(schemas, type_name, path) & SCHEMA_TYPES[reader]
