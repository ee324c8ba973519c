"""What a security group's egress can reach (cfnaudit/roles.py): VPCs with no way out, hosts and
containers that no interface endpoint serves, what a group guards, internal load balancers,
and Config rules as invokers."""

from __future__ import annotations

import pytest
from helpers import context_from

from cfnaudit.roles import (
    Invocation,
    evaluates_config_rule,
    group_users,
    hosts_needing_internet,
    internet_unreachable,
    private_entry,
)
from cfnaudit.rule import Context, Resource


def _context(text: str) -> Context:
    return context_from(text)


def _resource(ctx: Context, logical_id: str) -> Resource:
    return ctx.template.resources[logical_id]


NETWORK = """
Parameters:
  VpcId: {Type: String}
  TgwId: {Type: String}
Resources:
  Closed: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  ClosedTable: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Closed}}
  InClosed: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Closed}}
  Routed: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.1.0.0/16}}
  RoutedTable: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Routed}}
  PeerRoute:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref RoutedTable, DestinationCidrBlock: 10.9.0.0/16,
                 VpcPeeringConnectionId: pcx-0123}
  InRouted: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Routed}}
  Transit: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.2.0.0/16}}
  TransitAttachment:
    Type: AWS::EC2::TransitGatewayAttachment
    Properties: {TransitGatewayId: !Ref TgwId, VpcId: !Ref Transit, SubnetIds: [subnet-1]}
  InTransit: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Transit}}
  Natted: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.3.0.0/16}}
  NattedSubnet: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Natted, CidrBlock: 10.3.0.0/24}}
  Nat: {Type: AWS::EC2::NatGateway, Properties: {SubnetId: !Ref NattedSubnet}}
  InNatted: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Natted}}
  InParameter: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref VpcId}}
  InDefault: {Type: AWS::EC2::SecurityGroup, Properties: {}}
"""


@pytest.mark.parametrize(("group", "unreachable"), [
    ("InClosed", True), ("InRouted", False), ("InTransit", False), ("InNatted", False),
    ("InParameter", False), ("InDefault", False)])
def test_only_a_declared_vpc_with_no_way_out_cannot_reach_the_internet(
        group: str, unreachable: bool) -> None:
    ctx = _context(NETWORK)
    assert internet_unreachable(ctx, _resource(ctx, group)) is unreachable


HOSTS = """
Parameters:
  VpcId: {Type: String}
  OtherVpc: {Type: String}
Resources:
  TaskGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref OtherVpc}}
  Service:
    Type: AWS::ECS::Service
    Properties:
      NetworkConfiguration: {AwsvpcConfiguration: {SecurityGroups: [!Ref TaskGroup]}}
  ServedGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref VpcId}}
  ServedService:
    Type: AWS::ECS::Service
    Properties:
      NetworkConfiguration: {AwsvpcConfiguration: {SecurityGroups: [!Ref ServedGroup]}}
  MixedGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref OtherVpc}}
  MixedService:
    Type: AWS::ECS::Service
    Properties:
      NetworkConfiguration: {AwsvpcConfiguration: {SecurityGroups: [!Ref MixedGroup]}}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      VpcConfig: {SubnetIds: [s], SecurityGroupIds: [!Ref MixedGroup]}
      Environment:
        Variables: {TASKS: !Ref Tasks, GROUP: !Ref RunGroup}
  Handler:
    Type: AWS::Lambda::Function
    Properties:
      Environment: {Variables: {GROUP: !Ref LoneGroup}}
  Tasks: {Type: AWS::ECS::TaskDefinition, Properties: {NetworkMode: awsvpc}}
  RunGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref OtherVpc}}
  LoneGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref OtherVpc}}
  Endpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties: {VpcId: !Ref VpcId, VpcEndpointType: Interface, ServiceName: ecr}
"""


@pytest.mark.parametrize(("group", "needs"), [
    ("TaskGroup", True),     # an endpoint exists, in another VPC
    ("ServedGroup", False),  # the endpoint is in its VPC
    ("MixedGroup", False),   # shared with a function
    ("RunGroup", True),      # the tasks a function runs with it
    ("LoneGroup", False)])   # handed by a function to something the stack does not show
def test_container_hosts_need_the_internet_unless_an_endpoint_in_their_vpc_serves_them(
        group: str, needs: bool) -> None:
    ctx = _context(HOSTS)
    assert hosts_needing_internet(ctx, _resource(ctx, group)) is needs


def test_a_group_named_in_a_function_environment_guards_what_the_function_launches() -> None:
    ctx = _context(HOSTS)
    assert [r.logical_id for r in group_users(ctx, _resource(ctx, "RunGroup"))] == ["Tasks"]
    assert group_users(ctx, _resource(ctx, "LoneGroup")) == []
    assert [r.logical_id for r in group_users(ctx, _resource(ctx, "MixedGroup"))] == [
        "MixedService", "Function"]


BALANCERS = """
Resources:
  Internal: {Type: AWS::EC2::SecurityGroup, Properties: {}}
  InternalLb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, SecurityGroups: [!Ref Internal]}
  Public: {Type: AWS::EC2::SecurityGroup, Properties: {}}
  PublicLb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {SecurityGroups: [!Ref Public]}
  Shared: {Type: AWS::EC2::SecurityGroup, Properties: {}}
  SharedLb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Scheme: internal, SecurityGroups: [!Ref Shared]}
  Server: {Type: AWS::EC2::Instance, Properties: {SecurityGroupIds: [!Ref Shared]}}
  Alone: {Type: AWS::EC2::SecurityGroup, Properties: {}}
"""


@pytest.mark.parametrize(("group", "private"), [
    ("Internal", True), ("Public", False), ("Shared", False), ("Alone", False)])
def test_only_groups_of_internal_load_balancers_alone_are_private_entries(
        group: str, private: bool) -> None:
    ctx = _context(BALANCERS)
    assert private_entry(ctx, _resource(ctx, group)) is private


CONFIG = """
Resources:
  Check: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.12}}
  CheckRule:
    Type: AWS::Config::ConfigRule
    Properties: {Source: {Owner: CUSTOM_LAMBDA, SourceIdentifier: !GetAtt Check.Arn}}
  Permitted: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.12}}
  ConfigPermission:
    Type: AWS::Lambda::Permission
    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Permitted,
                 Principal: config.amazonaws.com}
  Uploaded: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.12}}
  S3Permission:
    Type: AWS::Lambda::Permission
    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Uploaded,
                 Principal: s3.amazonaws.com}
"""


@pytest.mark.parametrize(("function", "config"), [
    ("Check", True), ("Permitted", True), ("Uploaded", False)])
def test_config_rules_and_permissions_for_config_evaluate_config_rules(
        function: str, config: bool) -> None:
    ctx = _context(CONFIG)
    invokers = ctx.role(_resource(ctx, function)).invoked(Invocation.ASYNC)
    assert invokers
    assert all(evaluates_config_rule(ctx, i) is config for i in invokers)
