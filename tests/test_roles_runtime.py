"""Roles that decide where a rule applies (cfnaudit/roles.py): the region a stack is pinned
to, invokers that fire at a steady pace, the parameters that carry the environment, who reads
a stream, resources that live in one zone by design and names AWS requires verbatim."""

from __future__ import annotations

from helpers import template_from

from cfnaudit.graph import ResourceGraph
from cfnaudit.roles import Roles

FUNCTION = """
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: "def handler(e, c): pass"}
"""


def roles(text: str) -> Roles:
    template = template_from(text)
    return Roles(template, ResourceGraph(template))


EDGE_STACK = f"""
Resources:
  Edge:{FUNCTION}
  EdgeVersion:
    Type: AWS::Lambda::Version
    Properties: {{FunctionName: !Ref Edge}}
  Cdn:
    Type: AWS::CloudFront::Distribution
    Properties:
      DistributionConfig:
        DefaultCacheBehavior:
          LambdaFunctionAssociations:
            - {{EventType: viewer-request, LambdaFunctionARN: !Ref EdgeVersion}}
  Regional:{FUNCTION}
"""


def test_a_stack_with_a_lambda_at_edge_function_is_pinned_to_us_east_1() -> None:
    assert roles(EDGE_STACK).pinned_region() == "us-east-1"


def test_a_stack_without_edge_functions_is_not_pinned() -> None:
    assert roles(f"Resources:\n  Regional:{FUNCTION}").pinned_region() is None


STEADY = f"""
Resources:
  Fn:{FUNCTION}
  Sweep:
    Type: AWS::Events::Rule
    Properties:
      ScheduleExpression: rate(10 minutes)
      Targets: [{{Id: fn, Arn: !GetAtt Fn.Arn}}]
  OnChange:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: {{source: [aws.s3]}}
      Targets: [{{Id: fn, Arn: !GetAtt Fn.Arn}}]
  Check:
    Type: AWS::Config::ConfigRule
    Properties:
      Source:
        Owner: CUSTOM_LAMBDA
        SourceIdentifier: !GetAtt Fn.Arn
  ConfigPermission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Fn
      Action: lambda:InvokeFunction
      Principal: config.amazonaws.com
"""


def test_schedules_and_config_rules_are_steady_invokers() -> None:
    found = roles(STEADY)
    role = found.role(found.template.resources["Fn"])
    steady = {i.source: found.steady_invoker(i) for i in role.invokers}
    assert steady == {"Sweep": True, "OnChange": False, "Check": True,
                      "ConfigPermission": True}


ENVIRONMENTS = """
Parameters:
  EnvName: {Type: String, Default: dev}
  stagename: {Type: String, Default: prod}
  Stage: {Type: String, Default: v1}
  Tier: {Type: String, Default: test, AllowedValues: [test, prod]}
  Size: {Type: String, Default: small, AllowedValues: [small, large]}
  DeployStage: {Type: String, Default: a}
  AppName: {Type: String, Default: app}
  Environmental: {Type: String, Default: x}
Resources:
  Queue: {Type: AWS::SQS::Queue}
"""


def test_environment_parameters_by_name_and_allowed_values() -> None:
    found = roles(ENVIRONMENTS)
    # Stage (default v1) is an API Gateway stage, not an environment
    assert found.environment_parameters() == ["EnvName", "stagename", "Tier"]
    assert found.environment_parameters(["DeployStage"]) == [
        "EnvName", "stagename", "Tier", "DeployStage"]


READERS = """
Resources:
  Stream: {Type: AWS::Kinesis::Stream, Properties: {ShardCount: 1}}
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !GetAtt Stream.Arn, FunctionName: f, StartingPosition: LATEST}
  Delivery:
    Type: AWS::KinesisFirehose::DeliveryStream
    Properties:
      KinesisStreamSourceConfiguration: {KinesisStreamARN: !GetAtt Stream.Arn, RoleARN: r}
  Reader:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: ["kinesis:Get*"], Resource: !GetAtt Stream.Arn}
  Writer:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: write
          PolicyDocument:
            Statement:
              - {Effect: Allow, Action: kinesis:PutRecord, Resource: !GetAtt Stream.Arn}
  Consumer:
    Type: AWS::Kinesis::StreamConsumer
    Properties: {ConsumerName: c, StreamARN: !GetAtt Stream.Arn}
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      MetricName: IncomingRecords
      Dimensions: [{Name: StreamName, Value: !Ref Stream}]
"""


def test_stream_readers_share_throughput_or_fan_out() -> None:
    found = roles(READERS)
    shared, fan_out = found.stream_readers(found.template.resources["Stream"])
    assert shared == ["Mapping", "Delivery", "Reader"]  # not the writer, not the alarm
    assert fan_out == ["Consumer"]


ZONAL = """
Resources:
  Instance: {Type: AWS::EC2::Instance, Properties: {ImageId: ami-0123456789abcdef0}}
  Single:
    Type: AWS::AmazonMQ::Broker
    Properties: {DeploymentMode: SINGLE_INSTANCE}
  Active:
    Type: AWS::AmazonMQ::Broker
    Properties: {DeploymentMode: ACTIVE_STANDBY_MULTI_AZ}
  OneNode:
    Type: AWS::ElastiCache::CacheCluster
    Properties: {NumCacheNodes: 1}
  Fleet:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties: {MinSize: "2", MaxSize: "4"}
"""


def test_single_zone_by_design() -> None:
    found = roles(ZONAL)
    zonal = {i: found.single_zone(r) for i, r in found.template.resources.items()}
    assert zonal == {"Instance": True, "Single": True, "Active": False, "OneNode": True,
                     "Fleet": False}


def test_names_aws_requires_verbatim() -> None:
    found = roles("""
Resources:
  DmsVpc:
    Type: AWS::IAM::Role
    Properties: {RoleName: dms-vpc-role, AssumeRolePolicyDocument: {}}
  Mine:
    Type: AWS::IAM::Role
    Properties: {RoleName: my-role, AssumeRolePolicyDocument: {}}
""")
    fixed = {i: found.name_fixed_by_aws(r, "RoleName")
             for i, r in found.template.resources.items()}
    assert fixed == {"DmsVpc": True, "Mine": False}
