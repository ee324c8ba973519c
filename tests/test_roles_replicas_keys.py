"""Roles carried over replication, and the stores a KMS key encrypts (cfnaudit/roles.py)."""

from __future__ import annotations

from helpers import context_from

from cfnaudit.roles import Purpose, stores_under_key
from cfnaudit.rule import Context


def _context(text: str) -> Context:
    return context_from(text)


REPLICAS = """
Resources:
  Site:
    Type: AWS::S3::Bucket
    Properties:
      LoggingConfiguration: {DestinationBucketName: !Ref Logs}
  Logs:
    Type: AWS::S3::Bucket
    Properties:
      ReplicationConfiguration:
        Role: arn:aws:iam::123456789012:role/r
        Rules:
          - {Status: Enabled, Destination: {Bucket: !GetAtt LogsReplica.Arn}}
  LogsReplica:
    Type: AWS::S3::Bucket
    Properties:
      ReplicationConfiguration:
        Role: arn:aws:iam::123456789012:role/r
        Rules:
          - {Status: Enabled, Destination: {Bucket: !GetAtt Logs.Arn}}
  Artifacts:
    Type: AWS::S3::Bucket
    Properties:
      ReplicationConfiguration:
        Role: arn:aws:iam::123456789012:role/r
        Rules:
          - {Status: Enabled, Destination: {Bucket: !Sub "arn:aws:s3:::${ArtifactsCopy}"}}
  ArtifactsCopy:
    Type: AWS::S3::Bucket
  Pipeline:
    Type: AWS::CodePipeline::Pipeline
    Properties:
      RoleArn: arn:aws:iam::123456789012:role/p
      ArtifactStore: {Type: S3, Location: !Ref Artifacts}
      Stages: []
  Origin:
    Type: AWS::S3::Bucket
    Properties:
      ReplicationConfiguration:
        Role: arn:aws:iam::123456789012:role/r
        Rules:
          - {Status: Enabled, Destination: {Bucket: !GetAtt OriginCopy.Arn}}
  OriginCopy:
    Type: AWS::S3::Bucket
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        Enabled: true
        Origins: [{Id: o, DomainName: !GetAtt Origin.RegionalDomainName, S3OriginConfig: {}}]
        DefaultCacheBehavior: {TargetOriginId: o, ViewerProtocolPolicy: https-only}
"""


def test_a_replica_holds_what_its_source_holds_but_is_not_written_or_served_as_it_is() -> None:
    ctx = _context(REPLICAS)

    def purposes(logical_id: str) -> frozenset[Purpose]:
        return ctx.role(ctx.template.resources[logical_id]).purposes

    assert purposes("LogsReplica") == {Purpose.LOG_REPLICA}
    assert ctx.role(ctx.template.resources["LogsReplica"]).is_log_bucket
    # Replicating back into the log bucket neither loops nor takes its own purpose away.
    assert purposes("Logs") == {Purpose.ACCESS_LOGS}
    assert purposes("ArtifactsCopy") == {Purpose.ARTIFACTS}
    # Only what is stored carries over: nothing serves the copy of an origin.
    assert purposes("OriginCopy") == {Purpose.DATA}


KEYS = """
Resources:
  TopicKey:
    Type: AWS::KMS::Key
  TopicKeyAlias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: alias/t, TargetKeyId: !Ref TopicKey}
  Topic:
    Type: AWS::SNS::Topic
    Properties: {KmsMasterKeyId: !Ref TopicKeyAlias}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7, KmsKeyId: !GetAtt TopicKey.Arn}
  Grant:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement: [{Effect: Allow, Action: kms:Decrypt, Resource: !GetAtt TopicKey.Arn}]
  TrailKey:
    Type: AWS::KMS::Key
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties: {IsLogging: true, S3BucketName: b, KMSKeyId: !Ref TrailKey}
  UnusedKey:
    Type: AWS::KMS::Key
  ExportedKey:
    Type: AWS::KMS::Key
  Queue:
    Type: AWS::SQS::Queue
    Properties: {KmsMasterKeyId: !Ref ExportedKey}
Outputs:
  Key:
    Value: !Ref ExportedKey
"""


def test_stores_under_a_key_through_aliases_and_unexplained_uses() -> None:
    ctx = _context(KEYS)

    def stores(logical_id: str) -> list[str] | None:
        found = stores_under_key(ctx, ctx.template.resources[logical_id])
        return None if found is None else [s.logical_id for s in found]

    assert stores("TopicKey") == ["Topic", "Logs"]  # the IAM grant is no use
    assert stores("TrailKey") is None  # a trail encrypts objects in a bucket: not explained
    assert stores("UnusedKey") is None  # used from outside the stack
    assert stores("ExportedKey") is None  # other stacks import it
