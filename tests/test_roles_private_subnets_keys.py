"""Subnets routed only to private ranges, and the stores of an exported key
(cfnaudit/roles.py: in_subnets_without_exit, key_exported, stack_stores_under_key), as
OPS001/OPS002 name them."""

from __future__ import annotations

from helpers import RULE_FIXTURES, fixture_config, template_from

from cfnaudit.api import audit
from cfnaudit.graph import ResourceGraph
from cfnaudit.intrinsics import Scenarios
from cfnaudit.roles import (
    in_subnets_without_exit,
    key_exported,
    stack_stores_under_key,
    stores_under_key,
)
from cfnaudit.rule import Context, Rule, Severity


def _context(text: str) -> Context:
    template = template_from(text)
    meta = Rule(code="TST001", name="t", severity=Severity.INFO, category="s3-versioning",
                docs="", check=None)
    return Context(template, ResourceGraph(template), {}, meta, Scenarios(template))


SUBNETS = """
Parameters:
  SubnetParam: {Type: AWS::EC2::Subnet::Id}
Resources:
  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}
  Gateway: {Type: AWS::EC2::InternetGateway}
  Attach: {Type: AWS::EC2::VPCGatewayAttachment,
           Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Gateway}}
  Public: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}}
  PublicTable: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}
  Default:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref PublicTable, DestinationCidrBlock: 0.0.0.0/0,
                 GatewayId: !Ref Gateway}
  PublicAssoc: {Type: AWS::EC2::SubnetRouteTableAssociation,
                Properties: {SubnetId: !Ref Public, RouteTableId: !Ref PublicTable}}
  Private: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}}
  PrivateTable: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}
  Peer:
    Type: AWS::EC2::Route
    Properties: {RouteTableId: !Ref PrivateTable, DestinationCidrBlock: 192.168.0.0/16,
                 VpcPeeringConnectionId: pcx-1}
  PrivateAssoc: {Type: AWS::EC2::SubnetRouteTableAssociation,
                 Properties: {SubnetId: !Ref Private, RouteTableId: !Ref PrivateTable}}
  Vpn: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.2.0/24}}
  VpnTable: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}
  VpnAssoc: {Type: AWS::EC2::SubnetRouteTableAssociation,
             Properties: {SubnetId: !Ref Vpn, RouteTableId: !Ref VpnTable}}
  Propagation: {Type: AWS::EC2::VPNGatewayRoutePropagation,
                Properties: {RouteTableIds: [!Ref VpnTable], VpnGatewayId: vgw-1}}
  PrivateGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Vpc}}
  PrivateHost: {Type: AWS::EC2::Instance,
                Properties: {SubnetId: !Ref Private, SecurityGroupIds: [!Ref PrivateGroup]}}
  MixedGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Vpc}}
  MixedEndpoint:
    Type: AWS::EC2::VPCEndpoint
    Properties: {VpcId: !Ref Vpc, SubnetIds: [!Ref Private, !Ref Public],
                 SecurityGroupIds: [!Ref MixedGroup]}
  VpnGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Vpc}}
  VpnHost: {Type: AWS::EC2::Instance,
            Properties: {SubnetId: !Ref Vpn, SecurityGroupIds: [!Ref VpnGroup]}}
  ParamGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Vpc}}
  ParamHost:
    Type: AWS::EC2::Instance
    Properties:
      NetworkInterfaces:
        - {DeviceIndex: "0", SubnetId: !Ref SubnetParam, GroupSet: [!Ref ParamGroup]}
  IdleGroup: {Type: AWS::EC2::SecurityGroup, Properties: {VpcId: !Ref Vpc}}
"""


def test_a_group_is_private_only_when_every_subnet_it_reaches_routes_to_private_ranges() -> None:
    ctx = _context(SUBNETS)
    verdicts = {name: in_subnets_without_exit(ctx, ctx.template.resources[name])
                for name in ("PrivateGroup", "MixedGroup", "VpnGroup", "ParamGroup",
                             "IdleGroup")}
    assert verdicts == {"PrivateGroup": True, "MixedGroup": False, "VpnGroup": False,
                        "ParamGroup": False, "IdleGroup": False}


KEYS = """
Resources:
  Key: {Type: AWS::KMS::Key}
  Alias: {Type: AWS::KMS::Alias, Properties: {AliasName: alias/k, TargetKeyId: !Ref Key}}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: aws:kms, KMSMasterKeyID: !Ref Alias}
  Inner: {Type: AWS::KMS::Key}
Outputs:
  KeyArn: {Value: !GetAtt Key.Arn, Export: {Name: shared}}
"""


def test_an_exported_key_still_names_the_stores_of_its_own_stack() -> None:
    ctx = _context(KEYS)
    key, inner = ctx.template.resources["Key"], ctx.template.resources["Inner"]
    assert stores_under_key(ctx, key) is None  # other stacks may use it
    assert [s.logical_id for s in stack_stores_under_key(ctx, key)] == ["Bucket"]
    assert key_exported(ctx, key) and not key_exported(ctx, inner)
    assert stack_stores_under_key(ctx, inner) == []


def test_the_key_message_names_own_stores_and_importing_stacks() -> None:
    path = RULE_FIXTURES / "OPS002" / "fail_key_delete.yaml"
    report = audit([path], fixture_config(path, "OPS002"))
    messages = {f.message for f in report.findings if f.code == "OPS002"
                and "`ExportedKey`" in f.message}
    assert messages == {
        "`ExportedKey` (AWS::KMS::Key) has no UpdateReplacePolicy, so a replacement schedules "
        "the old key for deletion (after 7-30 days), and then the data encrypted under it "
        "(`Ledger`, and what importing stacks encrypt) becomes unreadable"}
