"""Roles that scope network, output and invocation rules (cfnaudit/roles.py): what a security
group guards, CIDR parameters that cannot be the internet, names known outside the stack, how
often a schedule fires."""

from __future__ import annotations

import pytest
from helpers import context_from

from cfnaudit.roles import (
    Invocation,
    excludes_anywhere,
    hosts_without_endpoints,
    internal_entry,
    name_known_outside,
    opens_no_connections,
    schedule_minutes,
)
from cfnaudit.rule import Context, Resource


def _context(text: str) -> Context:
    return context_from(text)


def _resource(ctx: Context, logical_id: str) -> Resource:
    return ctx.template.resources[logical_id]


# ------------------------------------------------------------------------- security groups

GROUPS = """
Parameters:
  Subnet: {Type: String}
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  OpenVpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.1.0.0/16}}
  Gateway: {Type: AWS::EC2::InternetGateway}
  Attach:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref OpenVpc, InternetGatewayId: !Ref Gateway}
  MountGroup: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: m, VpcId: !Ref Vpc}}
  FileSystem: {Type: AWS::EFS::FileSystem}
  Mount:
    Type: AWS::EFS::MountTarget
    Properties: {FileSystemId: !Ref FileSystem, SubnetId: !Ref Subnet,
                 SecurityGroups: [!Ref MountGroup]}
  HostGroup: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: h}}
  Host:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-12345678, SecurityGroupIds: [!Ref HostGroup]}
  SharedGroup: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: s}}
  SharedHost:
    Type: AWS::EC2::Instance
    Properties: {ImageId: ami-12345678, SecurityGroupIds: [!Ref SharedGroup]}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: arn:aws:iam::123456789012:role/fn
      Code: {ZipFile: x}
      VpcConfig: {SubnetIds: [!Ref Subnet], SecurityGroupIds: [!Ref SharedGroup]}
  Unattached: {Type: AWS::EC2::SecurityGroup, Properties: {GroupDescription: u}}
  InternalGroup:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: i, VpcId: !Ref Vpc}
  Internal:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, Subnets: [!Ref Subnet], SecurityGroups: [!Ref InternalGroup]}
  GatewayVpcGroup:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: g, VpcId: !Ref OpenVpc}
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcId: !Ref OpenVpc
      VpcEndpointType: Interface
      ServiceName: com.amazonaws.eu-west-1.sqs
      SecurityGroupIds: [!Ref GatewayVpcGroup]
  ParameterVpcGroup:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: p, VpcId: vpc-12345678}
  ParameterVpcBalancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, Subnets: [!Ref Subnet],
                 SecurityGroups: [!Ref ParameterVpcGroup]}
"""


@pytest.mark.parametrize(("group", "expected"), [
    ("MountGroup", True),       # a mount target opens no connections
    ("HostGroup", False),       # an instance does
    ("SharedGroup", False),     # so does a function sharing the group
    ("Unattached", False),      # nothing tells what it guards
    ("InternalGroup", True),    # a load balancer connects only to its targets
])
def test_opens_no_connections(group: str, expected: bool) -> None:
    ctx = _context(GROUPS)
    assert opens_no_connections(ctx, _resource(ctx, group)) is expected


def test_hosts_need_the_internet_only_without_interface_endpoints() -> None:
    without = _context(GROUPS.replace("VpcEndpointType: Interface", "VpcEndpointType: Gateway"))
    assert hosts_without_endpoints(without, _resource(without, "HostGroup"))
    assert not hosts_without_endpoints(without, _resource(without, "SharedGroup"))  # a function
    assert not hosts_without_endpoints(without, _resource(without, "MountGroup"))  # no host
    with_interface = _context(GROUPS)
    assert not hosts_without_endpoints(with_interface, _resource(with_interface, "HostGroup"))


@pytest.mark.parametrize(("group", "expected"), [
    ("InternalGroup", True),       # internal load balancer, VPC without internet gateway
    ("GatewayVpcGroup", False),    # an endpoint, but its VPC has an internet gateway
    ("ParameterVpcGroup", False),  # a VPC outside the stack: its gateways are unknown
    ("HostGroup", False),
    ("Unattached", False),
])
def test_internal_entry(group: str, expected: bool) -> None:
    ctx = _context(GROUPS)
    assert internal_entry(ctx, _resource(ctx, group)) is expected


def test_an_internet_facing_balancer_is_no_internal_entry() -> None:
    ctx = _context(GROUPS.replace("Scheme: internal, Subnets: [!Ref Subnet], SecurityGroups: "
                                  "[!Ref InternalGroup]", "Subnets: [!Ref Subnet], "
                                  "SecurityGroups: [!Ref InternalGroup]"))
    assert not internal_entry(ctx, _resource(ctx, "InternalGroup"))


# ---------------------------------------------------------------------------- CIDR parameters

CIDRS = """
Parameters:
  PeerVPCCIDR: {Type: String}
  PrivateSubnetCidrBlock: {Type: String}
  SSHLocation:
    Type: String
    AllowedPattern: "(\\\\d{1,3})\\\\.(\\\\d{1,3})\\\\.(\\\\d{1,3})\\\\.(\\\\d{1,3})/(\\\\d{1,2})"
  PartnerCidr: {Type: String, AllowedPattern: "10\\\\..*"}
  OfficeCidr: {Type: String, AllowedValues: [203.0.113.0/24, 198.51.100.0/24]}
  AnyCidr: {Type: String, AllowedValues: [0.0.0.0/0, 10.0.0.0/8]}
  Broken: {Type: String, AllowedPattern: "(?<name>x"}
  ClientIp: {Type: String}
Resources:
  Topic: {Type: AWS::SNS::Topic}
"""


@pytest.mark.parametrize(("parameter", "expected"), [
    ("PeerVPCCIDR", True),             # a VPC's block is /16 at most
    ("PrivateSubnetCidrBlock", True),
    ("SSHLocation", False),            # the usual pattern accepts 0.0.0.0/0
    ("PartnerCidr", True),             # the pattern rejects it
    ("OfficeCidr", True),
    ("AnyCidr", False),
    ("Broken", False),                 # an unreadable pattern tells nothing
    ("ClientIp", False),
    ("Missing", False),
])
def test_excludes_anywhere(parameter: str, expected: bool) -> None:
    assert excludes_anywhere(_context(CIDRS), parameter) is expected


# ------------------------------------------------------------------------------------- names

NAMES = """
Parameters:
  AppName: {Type: String}
  Environment: {Type: String, Default: dev}
  BucketName: {Type: String}
Resources:
  Literal: {Type: AWS::SNS::Topic, Properties: {TopicName: alerts}}
  WholeParameter: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref BucketName}}
  WholeParameterSub: {Type: AWS::S3::Bucket, Properties: {BucketName: !Sub "${BucketName}"}}
  StackNamed: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "${AWS::StackName}-x"}}
  Published: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "${AppName}-x"}}
  Unpublished: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "x-${Environment}"}}
  FromResource: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "${Literal}-x"}}
  StackId: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "x-${AWS::StackId}"}}
  Imported: {Type: AWS::SNS::Topic, Properties: {TopicName: !ImportValue shared-name}}
  Chosen:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !If [IsProd, !Sub "${AWS::StackName}-p", literal]}
  Generated: {Type: AWS::SNS::Topic}
  Malformed: {Type: AWS::SNS::Topic, Properties: {TopicName: {Ref: {Fn::If: [a, b, c]}}}}
  AliasedKey: {Type: AWS::KMS::Key}
  Alias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: !Sub "alias/${AWS::StackName}", TargetKeyId: !Ref AliasedKey}
  EnvKey: {Type: AWS::KMS::Key}
  EnvAlias:
    Type: AWS::KMS::Alias
    Properties: {AliasName: !Sub "alias/${Environment}", TargetKeyId: !Ref EnvKey}
  BareKey: {Type: AWS::KMS::Key}
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Outputs:
  Application: {Value: !Ref AppName}
"""


@pytest.mark.parametrize(("logical_id", "expected"), [
    ("Literal", True), ("WholeParameter", True), ("WholeParameterSub", True),
    ("StackNamed", True), ("Published", True), ("Chosen", True),
    ("Unpublished", False), ("FromResource", False), ("StackId", False), ("Imported", False),
    ("Generated", False), ("Malformed", False),
    ("AliasedKey", True), ("EnvKey", False), ("BareKey", False),
])
def test_name_known_outside(logical_id: str, expected: bool) -> None:
    ctx = _context(NAMES)
    resource = _resource(ctx, logical_id)
    name_property = {"AWS::S3::Bucket": "BucketName", "AWS::SNS::Topic": "TopicName"}.get(
        resource.type, "")
    assert name_known_outside(ctx, resource, name_property) is expected


# --------------------------------------------------------------------------------- schedules

SCHEDULES = """
Resources:
  Target:
    Type: AWS::Lambda::Function
    Properties: {Runtime: python3.12, Handler: i.h, Role: arn:aws:iam::123456789012:role/r,
                 Code: {ZipFile: x}}
  Rate:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: rate(10 minutes), Targets: [{Id: a, Arn: !GetAtt Target.Arn}]}
  Hourly:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: rate(2 hours), Targets: [{Id: a, Arn: !GetAtt Target.Arn}]}
  EveryFive:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: "cron(0/5 * * * ? *)",
                 Targets: [{Id: a, Arn: !GetAtt Target.Arn}]}
  Nightly:
    Type: AWS::Events::Rule
    Properties: {ScheduleExpression: "cron(0 2 * * ? *)",
                 Targets: [{Id: a, Arn: !GetAtt Target.Arn}]}
  Pattern:
    Type: AWS::Events::Rule
    Properties: {EventPattern: {source: [aws.s3]}, Targets: [{Id: a, Arn: !GetAtt Target.Arn}]}
  Scheduler:
    Type: AWS::Scheduler::Schedule
    Properties:
      ScheduleExpression: rate(1 minute)
      FlexibleTimeWindow: {Mode: "OFF"}
      Target: {Arn: !GetAtt Target.Arn, RoleArn: arn:aws:iam::123456789012:role/s}
  RatePermission:
    Type: AWS::Lambda::Permission
    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Target,
                 Principal: events.amazonaws.com, SourceArn: !GetAtt Rate.Arn}
"""


def test_schedule_minutes_of_each_invoker() -> None:
    ctx = _context(SCHEDULES)
    minutes = {i.source: schedule_minutes(ctx, i)
               for i in ctx.role(_resource(ctx, "Target")).invoked(Invocation.ASYNC)}
    assert minutes == {"Rate": 10, "Hourly": 120, "EveryFive": 5, "Nightly": None,
                       "Pattern": None, "Scheduler": 1, "RatePermission": 10}
