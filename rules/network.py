"""VPC, subnet and endpoint rules (categories `vpc-self-contained`, `vpc-endpoints`,
`network-routing`).

Network questions span several resources (a subnet, its route table association, the routes
of that table, the VPC's CIDR), so the checks that combine resources evaluate them together in
every joint condition scenario and fold the results the way `Context.each_variant` does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    NO_VALUE,
    Context,
    PolicySource,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Variant,
    Violation,
    action_matches,
    actions_of,
    branch,
    effect_of,
    referenced_resources,
    resources_of,
    role_policy_documents,
    rule,
    statements,
    stores_encrypted_with,
    sub_variables,
)

Path = tuple[str | int, ...]

VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
ROUTE_TABLE = "AWS::EC2::RouteTable"
ROUTE = "AWS::EC2::Route"
ASSOCIATION = "AWS::EC2::SubnetRouteTableAssociation"
ENDPOINT = "AWS::EC2::VPCEndpoint"
CIDR_BLOCK = "AWS::EC2::VPCCidrBlock"

# ------------------------------------------------------------------------- shared helpers


def _pick(value: Any, scenario: Scenario) -> Any:
    """`value` in `scenario`: Fn::If branches chosen, AWS::NoValue dropped (NO_VALUE when the
    whole value is absent)."""
    return branch(value, scenario)


def _exists(resource: Resource, scenario: Scenario) -> bool:
    return resource.condition is None or dict(scenario).get(resource.condition, True)


def _check_jointly(ctx: Context, primary: Resource, related: Iterable[Resource],
                   check: Callable[[Scenario], Iterable[Violation]]) -> Iterator[Violation]:
    """`check` in every joint condition scenario of the resources, folded (engine helper)."""
    yield from ctx.each_scenario(primary, list(related), check)


def _target(ctx: Context, value: Any, *types: str) -> Resource | None:
    """The stack resource of `types` that `value` refers to (Ref or GetAtt)."""
    logical_id = ctx.ref_target(value)
    if logical_id is None:
        return None
    resource = ctx.template.resources[logical_id]
    return resource if not types or resource.type in types else None


def _items(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None or value is NO_VALUE else [value]


# ------------------------------------------------------------------ availability zones

def az_key(ctx: Context, subnet: Resource, properties: Mapping[str, Any],
           scenario: Scenario) -> str | Unresolved:
    """A name for the subnet's availability zone that is equal for equal zones.

    `!Select [i, !GetAZs ""]` (or `!GetAZs !Ref AWS::Region`) becomes "zone #i of the stack's
    region": two different indexes are two zones, the same index twice is one zone. Other
    expressions that depend only on the region (`!Sub "${AWS::Region}a"`, a `FindInMap` keyed
    by region) are compared as written.
    """
    if "AvailabilityZone" in properties:
        value = properties["AvailabilityZone"]
        selected = value.get("Fn::Select") if isinstance(value, dict) and len(value) == 1 \
            else None
        if isinstance(selected, list) and len(selected) == 2 and isinstance(selected[1], dict) \
                and "Fn::GetAZs" in selected[1]:
            index = ctx.resolve(selected[0], scenario)
            if isinstance(index, Unresolved):
                return index
            region = ctx.resolve(selected[1]["Fn::GetAZs"], scenario)
            where = region if isinstance(region, str) and region else "the stack's region"
            return f"zone #{index} of {where}"
        resolved = ctx.resolve(value, scenario)
        if not isinstance(resolved, Unresolved):
            return str(resolved)
        return _symbolic(ctx, value, scenario)
    if "AvailabilityZoneId" in properties:
        resolved = ctx.resolve(properties["AvailabilityZoneId"], scenario)
        return resolved if isinstance(resolved, Unresolved) else str(resolved)
    return Unresolved(f"subnet `{subnet.logical_id}` has no `AvailabilityZone`, so AWS picks "
                      "one at deployment")


_REGION_PSEUDO = frozenset({"AWS::Region", "AWS::Partition", "AWS::URLSuffix"})


def _symbolic(ctx: Context, value: Any, scenario: Scenario) -> str | Unresolved:
    """`value` as text with the region left as `${AWS::Region}`; Unresolved when it depends on
    anything else unknown (a parameter without a value, a resource attribute, an import)."""
    if isinstance(value, list):
        parts = [_symbolic(ctx, item, scenario) for item in value]
        bad = next((p for p in parts if isinstance(p, Unresolved)), None)
        return bad if bad is not None else "[" + ", ".join(str(p) for p in parts) + "]"
    if not isinstance(value, dict) or len(value) != 1:
        return str(value)
    (name, arg), = value.items()
    if name == "Ref" and isinstance(arg, str) and arg in _REGION_PSEUDO:
        return "${" + str(arg) + "}"
    if name == "Fn::GetAZs" and (arg in ("", None) or arg == {"Ref": "AWS::Region"}):
        return "!GetAZs ${AWS::Region}"
    if name == "Fn::Sub" and isinstance(arg, str):
        text = arg
        for variable in set(sub_variables(arg)):
            if variable in _REGION_PSEUDO:
                continue
            known = ctx.resolve({"Ref": variable}, scenario)
            if isinstance(known, Unresolved) or "." in variable:
                return known if isinstance(known, Unresolved) else Unresolved(
                    f"`{variable}` is known only at deployment")
            text = text.replace("${" + variable + "}", str(known))
        return text
    if name in ("Fn::Select", "Fn::FindInMap", "Fn::Join", "Fn::GetAZs"):
        inner = _symbolic(ctx, arg, scenario)
        return inner if isinstance(inner, Unresolved) else f"!{name[4:]} {inner}"
    resolved = ctx.resolve(value, scenario)
    return resolved if isinstance(resolved, Unresolved) else str(resolved)


def _zones(ctx: Context, subnets: list[Resource], scenario: Scenario
           ) -> tuple[dict[str, list[str]], list[Unresolved]]:
    """Zone name -> subnets in it, and the reasons some zones are unknown."""
    zones: dict[str, list[str]] = {}
    unknown: list[Unresolved] = []
    for subnet in subnets:
        key = az_key(ctx, subnet, ctx.properties_in(subnet, scenario), scenario)
        if isinstance(key, Unresolved):
            unknown.append(key)
        else:
            zones.setdefault(key, []).append(subnet.logical_id)
    return zones, unknown


# ---------------------------------------------------------------- vpc-self-contained

# Property names that place a resource into a VPC or subnets, wherever they are nested.
_PLACEMENT_KEYS = {"VpcId": "a VPC", "VPCId": "a VPC", "SubnetId": "a subnet",
                   "SubnetIds": "subnets", "Subnets": "subnets", "VPCZoneIdentifier": "subnets"}


def _placements(value: Any, path: Path) -> Iterator[tuple[str, Any, Path]]:
    """(key, value, path) of every placement property below `value`."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*where, i)) for i, item in enumerate(node))
        elif isinstance(node, dict):
            if len(node) == 1 and next(iter(node)).startswith("Fn::"):
                continue  # an intrinsic, not a property block
            for key, item in node.items():
                if key in _PLACEMENT_KEYS:
                    yield key, item, (*where, key)
                else:
                    stack.append((item, (*where, key)))


def _outside_sources(ctx: Context, value: Any) -> list[str]:
    """Descriptions of the parts of a placement value that do not come from the stack."""
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, str):
            if node.strip():
                found.append(f"the literal id `{node}`")
        elif isinstance(node, dict) and len(node) == 1:
            (name, arg), = node.items()
            if name == "Ref" and isinstance(arg, str) and arg in ctx.template.parameters:
                found.append(f"parameter `{arg}`")
            elif name == "Fn::ImportValue":
                found.append("an imported value")
            elif name == "Fn::FindInMap":
                found.append("a mapping")
            elif name in ("Fn::Select", "Fn::Split", "Fn::Join") and isinstance(arg, list) \
                    and len(arg) == 2:
                stack.append(arg[1])  # the index or delimiter is not a placement
            elif name == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                stack.extend(arg[1:])
            elif name == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) and arg else arg
                names = list(sub_variables(text)) if isinstance(text, str) else []
                found.extend(f"parameter `{n}`" for n in names if n in ctx.template.parameters)
    return list(dict.fromkeys(found))


# Resources that lay out a network. A stack that makes any of them designs its network, so a
# placement into a VPC or subnets it does not make is a gap in that design.
_LAYOUT_TYPES = (VPC, SUBNET, ROUTE_TABLE)
# What a literal VPC or subnet id looks like (8 or 17 hexadecimal digits).
_ID_FORMS = {"a VPC": re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
             "a subnet": re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})")}
_ID_FORMS["subnets"] = _ID_FORMS["a subnet"]
NOT_AN_ID = "not-an-id"


def _literals(value: Any) -> list[str]:
    """The literal strings a placement value is made of (Fn::If branches, list items and the
    list of a Select included; the parts of a Join are no whole value)."""
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, str) and node.strip():
            found.append(node.strip())
        elif isinstance(node, dict) and len(node) == 1:
            (name, arg), = node.items()
            if name == "Fn::Select" and isinstance(arg, list) and len(arg) == 2:
                stack.append(arg[1])
            elif name == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                stack.extend(arg[1:])
    return found


def _network_layout(ctx: Context) -> list[str]:
    """Logical ids of the VPCs, subnets and route tables the stack creates."""
    return [r.logical_id for r in ctx.template.of_type(*_LAYOUT_TYPES)]


@rule(code="NET001", name="vpc-from-parameters", severity=Severity.WARNING,
      category="vpc-self-contained",
      options={"allow_shared_vpc": False, "require_own_network": False}, security=True)
def vpc_from_parameters(ctx: Context) -> Iterator[Violation]:
    """Stack lays out a network but places resources into a VPC or subnets it does not create.

    ## What it does
    Looks at every placement property (`VpcId`, `SubnetId`, `SubnetIds`, `Subnets`,
    `VPCZoneIdentifier`, also nested as in `VpcConfig.SubnetIds`) of every resource and finds
    the ones whose value comes from a parameter, an `Fn::ImportValue`, a mapping or a literal
    id instead of a `Ref` to a VPC or subnet created in the same stack. Every `Fn::If` branch
    is checked.

    Scope: a template made to go into an existing network (an instance launched into the
    user's subnet, a layered service stack that imports the VPC of a network stack, a private
    API endpoint in the caller's VPC) is not at fault for taking that network as input. The
    rule reports outside placements only when the stack lays out a network itself: it creates
    a VPC, subnets or route tables. A stack that carves its own subnets and route tables out
    of a VPC it does not own, as the flawed pipeline does, designs a network it cannot see
    (the VPC's other subnets, routes and endpoints). One finding is reported per outside
    source (a parameter, an import), on its first placement, listing every resource placed
    through it. With `require_own_network` every outside placement is reported, whatever the
    stack creates (a profile for self-contained stacks).

    Whatever the scope, a literal string that cannot be a VPC or subnet id (`PrivateSubnet1ID`
    where `!Ref PrivateSubnet1ID` was meant) is reported on its resource: the deployment
    fails or, worse, picks nothing.

    ## Why is this bad?
    A stack that takes its network as input cannot guarantee anything about it: the subnets
    may be public, lack route table associations, have no VPC endpoints, or sit in a single
    availability zone, and the rules that check those properties cannot see them. Subnets
    added to a VPC the stack does not know may overlap the CIDRs of existing ones. Building
    the VPC, subnets, route tables and endpoints in the stack makes the network part of the
    reviewed, versioned design.

    ## Example
    ```yaml
    Parameters:
      VpcId: {Type: "AWS::EC2::VPC::Id"}
    Resources:
      EndpointSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref VpcId
          CidrBlock: 10.0.9.0/24
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties:
          CidrBlock: 10.0.0.0/16
      EndpointSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.9.0/24
    ```

    ## Options
    - `allow_shared_vpc` (default `false`): accept networks from outside the stack (a shared
      VPC owned by a network team) even when the stack lays out subnets in it; only literal
      strings that cannot be ids are reported then.
    - `require_own_network` (default `false`): report every placement from outside the stack,
      also in stacks that create no VPC, subnet or route table.

    ## References
    - [Amazon VPC user guide](https://docs.aws.amazon.com/vpc/latest/userguide/what-is-amazon-vpc.html)
    - [AWS-specific parameter types](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html)
    """
    types = dict.fromkeys(r.type for r in ctx.template.resources.values())
    resources = list(ctx.resources(*types))
    layout = _network_layout(ctx)
    in_scope = not ctx.option("allow_shared_vpc") and (
        bool(layout) or bool(ctx.option("require_own_network")))
    why = _layout_reason(ctx, layout)
    groups: dict[str, list[Violation]] = {}
    for resource in resources:
        if not any(True for _ in _placements(dict(resource.properties), ())):
            continue
        for found in ctx.each_variant(resource,
                                      lambda v, r=resource: _placed_outside(ctx, r, v)):
            if found.key == NOT_AN_ID:
                yield found
            elif in_scope:
                groups.setdefault(found.key, []).append(found)
    for key, placed in groups.items():
        what, source = key.split("|", 1)
        names = [_fragment(v) for v in placed]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
        verb = "is" if len(names) == 1 else "are"
        yield Violation(f"{listed} {verb} placed into {what} from {source} instead of {what} "
                        f"created in this stack{why}", placed[0].path, key=key)


def _layout_reason(ctx: Context, layout: list[str]) -> str:
    """Why the rule holds the stack to its own network, for the message."""
    vpcs = [i for i in layout if ctx.template.resources[i].type == VPC]
    if vpcs:
        return f", although the stack creates {_listing(vpcs)}"
    if layout:
        return (f"; the stack builds subnets or route tables ({_listing(layout)}) in a VPC it "
                "does not create")
    return ""


def _fragment(found: Violation) -> str:
    """"`Name`", or "`Name` (when C is true)" for a placement made in some scenarios only."""
    name, _, when = found.message.partition("` ")
    return f"{name}` ({when})" if when else found.message


def _listing(ids: list[str], limit: int = 4) -> str:
    shown = [f"`{i}`" for i in ids[:limit]]
    more = len(ids) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _placed_outside(ctx: Context, resource: Resource, v: Variant) -> Iterator[Violation]:
    """Per placement: a violation naming strings that cannot be ids, and one fragment (the
    resource's name, keyed by what and where from) per outside source, grouped by the rule."""
    for key, value, path in _placements(dict(v.properties), resource.at("Properties")):
        what = _PLACEMENT_KEYS[key]
        form = _ID_FORMS[what]
        bad = [text for text in _literals(value) if not form.fullmatch(text)]
        if bad:
            noun = "a VPC id" if what == "a VPC" else "subnet ids"
            strings = " and ".join(f"`{b}`" for b in bad)
            yield Violation(f"`{resource.logical_id}` is placed into {what} from the literal "
                            f"string{'s' if len(bad) > 1 else ''} {strings}, which "
                            f"{'are not' if len(bad) > 1 else 'is not'} {noun} "
                            "(missing `!Ref`?)", path, key=NOT_AN_ID)
        for source in _outside_sources(ctx, value):
            if any(source == f"the literal id `{b}`" for b in bad):
                continue
            yield Violation(f"`{resource.logical_id}`", path, key=f"{what}|{source}")


# ------------------------------------------------------------------------ route tables

def _route_tables(ctx: Context, subnet: Resource, scenario: Scenario) -> list[Resource]:
    """Route tables associated with `subnet` in `scenario`, through the graph."""
    tables = []
    for association in ctx.referring_resources(subnet, types=(ASSOCIATION,),
                                               under=("Properties", "SubnetId")):
        ctx.examine(association)
        if not _exists(association, scenario):
            continue
        table = _target(ctx, _pick(association.properties.get("RouteTableId"), scenario),
                        ROUTE_TABLE)
        if table is not None:
            tables.append(table)
    return tables


def _routes_to_internet(ctx: Context, table: Resource, scenario: Scenario) -> bool:
    """The table has a route through an internet gateway (the subnet is public)."""
    for route in ctx.referring_resources(table, types=(ROUTE,), under=("Properties",
                                                                       "RouteTableId")):
        ctx.examine(route)
        if not _exists(route, scenario):
            continue
        gateway = _pick(route.properties.get("GatewayId"), scenario)
        if gateway is None or gateway is NO_VALUE:
            continue
        target = _target(ctx, gateway)
        if target is not None and target.type == "AWS::EC2::InternetGateway":
            return True
        literal = ctx.resolve(gateway, scenario)
        if isinstance(literal, str) and literal.startswith("igw-"):
            return True
    return False


def _is_public(ctx: Context, subnet: Resource, scenario: Scenario) -> bool:
    props = ctx.properties_in(subnet, scenario)
    if ctx.truth(props.get("MapPublicIpOnLaunch", False), scenario) is True:
        return True
    return any(_routes_to_internet(ctx, t, scenario) for t in _route_tables(ctx, subnet,
                                                                             scenario))


def _private_route_tables(ctx: Context, vpc: Resource, scenario: Scenario
                          ) -> dict[str, list[str]]:
    """Route table id -> private subnets associated with it, for the subnets of `vpc`."""
    result: dict[str, list[str]] = {}
    for subnet in ctx.referring_resources(vpc, types=(SUBNET,), under=("Properties", "VpcId")):
        ctx.examine(subnet)
        if not _exists(subnet, scenario) or _is_public(ctx, subnet, scenario):
            continue
        for table in _route_tables(ctx, subnet, scenario):
            result.setdefault(table.logical_id, []).append(subnet.logical_id)
    return result


# --------------------------------------------------------------------- vpc-endpoints

_SERVICE_NAME = re.compile(r"^(?:[a-z0-9.-]*\.)?com\.amazonaws\.(?:\*|[a-z0-9-]+)\.(.+)$")


def endpoint_service(ctx: Context, endpoint_props: Mapping[str, Any],
                     scenario: Scenario) -> str | None:
    """`s3`, `kinesis-streams`, `ecr.api`... from ServiceName in its usual forms (literal,
    `!Sub com.amazonaws.${AWS::Region}.s3`, Join); None when it cannot be read."""
    text = ctx.skeleton(endpoint_props.get("ServiceName"), scenario)
    if text is None:
        return None
    match = _SERVICE_NAME.match(text)
    return match.group(1) if match else None


def _endpoint_type(ctx: Context, props: Mapping[str, Any], scenario: Scenario
                   ) -> str | Unresolved:
    kind = ctx.resolve(props.get("VpcEndpointType", "Gateway"), scenario)
    return kind if isinstance(kind, Unresolved) else str(kind)


@rule(code="NET002", name="gateway-endpoint-route-tables", severity=Severity.ERROR,
      category="vpc-endpoints", resource_types=(ENDPOINT,), security=True)
def gateway_endpoint_route_tables(ctx: Context) -> Iterator[Violation]:
    """Gateway endpoint does not serve every private route table of its VPC.

    ## What it does
    For every `AWS::EC2::VPCEndpoint` of type `Gateway` (the default; S3 and DynamoDB),
    checks that `RouteTableIds` is present and not empty, and, when the VPC is created in the
    stack, that it lists every route table associated with one of the VPC's private subnets.
    A subnet is private when `MapPublicIpOnLaunch` is not true and none of its route tables
    has a route through an internet gateway. Route tables and subnets are found through the
    resource graph, in every condition scenario.

    ## Why is this bad?
    A gateway endpoint works by adding a prefix-list route to the route tables it names. A
    private subnet whose route table is missing from the list sends S3 or DynamoDB traffic to
    the NAT gateway (paid per gigabyte, and over the internet path) or, without NAT, cannot
    reach the service at all. An endpoint with no route tables does nothing.

    ## Example
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      PrivateSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
      PrivateRoutes:
        Type: AWS::EC2::RouteTable
        Properties: {VpcId: !Ref Vpc}
      PrivateSubnetRoutes:
        Type: AWS::EC2::SubnetRouteTableAssociation
        Properties:
          SubnetId: !Ref PrivateSubnet
          RouteTableId: !Ref PrivateRoutes
      S3Endpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: !Ref Vpc
          ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
          RouteTableIds: []
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      PrivateSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
      PrivateRoutes:
        Type: AWS::EC2::RouteTable
        Properties: {VpcId: !Ref Vpc}
      PrivateSubnetRoutes:
        Type: AWS::EC2::SubnetRouteTableAssociation
        Properties:
          SubnetId: !Ref PrivateSubnet
          RouteTableId: !Ref PrivateRoutes
      S3Endpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: !Ref Vpc
          ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
          RouteTableIds: [!Ref PrivateRoutes]
    ```

    ## Known problems
    Route tables of subnets that are not created in the stack cannot be seen; the
    `vpc-from-parameters` rule (NET001) reports such placements.

    ## References
    - [Gateway endpoints](https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html)
    - [AWS::EC2::VPCEndpoint](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-vpcendpoint.html)
    """
    for endpoint in ctx.resources():
        vpc = _target(ctx, endpoint.properties.get("VpcId"), VPC)
        subnets = ctx.referring_resources(vpc, types=(SUBNET,)) if vpc else []
        related = [*([vpc] if vpc else []), *subnets]
        yield from _check_jointly(ctx, endpoint, related,
                                  lambda s, e=endpoint, n=vpc: _gateway(ctx, e, n, s))


def _gateway(ctx: Context, endpoint: Resource, vpc: Resource | None,
             scenario: Scenario) -> Iterator[Violation]:
    props = ctx.properties_in(endpoint, scenario)
    kind = _endpoint_type(ctx, props, scenario)
    noun = f"Gateway endpoint `{endpoint.logical_id}`"
    if isinstance(kind, Unresolved):
        yield Violation(f"Endpoint `{endpoint.logical_id}`'s type cannot be checked because "
                        f"{kind.reason}", endpoint.at("Properties", "VpcEndpointType"),
                        severity=Severity.WARNING)
        return
    if kind != "Gateway":
        return
    path = endpoint.at("Properties", "RouteTableIds")
    listed = props.get("RouteTableIds")
    if listed is None or (isinstance(listed, list) and not listed):
        yield Violation(f"{noun} lists no route tables, so no subnet routes through it",
                        path if "RouteTableIds" in endpoint.properties else endpoint.path)
        return
    if vpc is None:
        return
    resolved = listed if isinstance(listed, list) else [listed]
    named = {t.logical_id for t in (_target(ctx, item, ROUTE_TABLE) for item in resolved) if t}
    for table, subnets in sorted(_private_route_tables(ctx, vpc, scenario).items()):
        if table not in named:
            yield Violation(f"{noun} does not list route table `{table}` of private subnet "
                            f"{', '.join(f'`{s}`' for s in subnets)}", path, key=table)


@rule(code="NET003", name="interface-endpoint-configuration", severity=Severity.ERROR,
      category="vpc-endpoints", resource_types=(ENDPOINT,), security=True)
def interface_endpoint_configuration(ctx: Context) -> Iterator[Violation]:
    """Interface endpoint lacks private DNS, security groups or a second availability zone.

    ## What it does
    For every `AWS::EC2::VPCEndpoint` of type `Interface`, checks that
    `PrivateDnsEnabled` is `true` (CloudFormation's default is `false`), that
    `SecurityGroupIds` names at least one security group, and that `SubnetIds` lists subnets
    of the stack in at least two availability zones (a warning). Zones are compared
    symbolically: `!Select [0, !GetAZs ""]` and `!Select [1, !GetAZs ""]` are two zones, the
    same index twice is one. Private DNS is not asked of an endpoint whose network
    interfaces the stack reads (`!GetAtt Endpoint.NetworkInterfaceIds`, to make their
    addresses a load balancer's targets): its clients reach it by IP.

    ## Why is this bad?
    Without private DNS the SDKs in the VPC keep resolving the public service name and send
    traffic out through NAT or fail; the endpoint sits unused. Without security groups the
    endpoint gets the VPC's default security group, whose rules are not part of the design.
    Endpoint network interfaces in a single zone make every caller depend on that zone.

    ## Example
    ```yaml
    Resources:
      KmsEndpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcEndpointType: Interface
          VpcId: vpc-0123456789abcdef0
          ServiceName: !Sub com.amazonaws.${AWS::Region}.kms
          SubnetIds: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
    ```

    ## Use instead
    ```yaml
    Resources:
      KmsEndpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcEndpointType: Interface
          VpcId: vpc-0123456789abcdef0
          ServiceName: !Sub com.amazonaws.${AWS::Region}.kms
          PrivateDnsEnabled: true
          SecurityGroupIds: [sg-0123456789abcdef0]
          SubnetIds: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
    ```

    ## Known problems
    Zones of subnets that are not created in the stack cannot be known; the zone check is
    skipped for them and NET001 reports the placement. A literal zone name and a
    `!GetAZs` index are taken to be different zones.

    ## References
    - [Access an AWS service using an interface VPC endpoint](https://docs.aws.amazon.com/vpc/latest/privatelink/create-interface-endpoint.html)
    - [Private DNS for interface endpoints](https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html#interface-endpoint-private-dns)
    """
    for endpoint in ctx.resources():
        subnets = ctx.targets_at(endpoint, "Properties", "SubnetIds", types=(SUBNET,))
        yield from _check_jointly(ctx, endpoint, subnets,
                                  lambda s, e=endpoint: _interface(ctx, e, s))


def _interface(ctx: Context, endpoint: Resource, scenario: Scenario) -> Iterator[Violation]:
    props = ctx.properties_in(endpoint, scenario)
    kind = _endpoint_type(ctx, props, scenario)
    if isinstance(kind, Unresolved) or kind != "Interface":
        return  # an unknown type is reported by NET002
    noun = f"Interface endpoint `{endpoint.logical_id}`"
    dns = ctx.truth(props.get("PrivateDnsEnabled", False), scenario)
    dns_path = endpoint.at("Properties", "PrivateDnsEnabled") if "PrivateDnsEnabled" in props \
        else endpoint.path
    if isinstance(dns, Unresolved):
        yield Violation(f"{noun}'s `PrivateDnsEnabled` cannot be checked because {dns.reason}",
                        dns_path, severity=Severity.WARNING)
    elif not dns and not _reached_by_address(ctx, endpoint):
        yield Violation(f"{noun} does not enable private DNS, so clients keep resolving the "
                        "public service endpoint", dns_path, key="dns")
    if not _items(props.get("SecurityGroupIds")):
        yield Violation(f"{noun} has no `SecurityGroupIds`, so it gets the VPC's default "
                        "security group", endpoint.at("Properties", "SecurityGroupIds")
                        if "SecurityGroupIds" in props else endpoint.path, key="sg")
    yield from _endpoint_zones(ctx, noun, endpoint, props, scenario)


def _reached_by_address(ctx: Context, endpoint: Resource) -> bool:
    """The stack reads the endpoint's network interfaces (`!GetAtt E.NetworkInterfaceIds`,
    to target their addresses from a load balancer): clients reach it by IP, and private
    DNS plays no part."""
    return any(edge.attribute == "NetworkInterfaceIds"
               for edge in ctx.referrers(endpoint, kinds=("GetAtt", "Sub")))


def _endpoint_zones(ctx: Context, noun: str, endpoint: Resource, props: Mapping[str, Any],
                    scenario: Scenario) -> Iterator[Violation]:
    items = _items(props.get("SubnetIds"))
    path = endpoint.at("Properties", "SubnetIds")
    if not items:
        yield Violation(f"{noun} has no `SubnetIds`, so it has no network interfaces",
                        path if "SubnetIds" in props else endpoint.path, key="subnets")
        return
    subnets = [_target(ctx, item, SUBNET) for item in items]
    if any(s is None for s in subnets):
        return  # subnets from outside the stack: zones unknown, NET001 reports them
    zones, unknown = _zones(ctx, [s for s in subnets if s is not None], scenario)
    if len(zones) >= 2:
        return
    if unknown:
        yield Violation(f"{noun}'s availability zones cannot be checked because "
                        f"{unknown[0].reason}", path, severity=Severity.WARNING, key="zones")
    else:
        yield Violation(f"{noun} has subnets in only one availability zone "
                        f"({_zone_text(zones)})", path, severity=Severity.WARNING, key="zones")


def _zone_text(zones: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{', '.join(f'`{s}`' for s in subnets)} in {zone}"
                     for zone, subnets in zones.items())


# IAM service prefix -> the endpoint service names that serve it (any one is enough).
SERVICE_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "s3": ("s3",),
    "dynamodb": ("dynamodb",),
    "kinesis": ("kinesis-streams",),
    "firehose": ("kinesis-firehose",),
    "logs": ("logs",),
    "cloudwatch": ("monitoring",),
    "kms": ("kms",),
    "sqs": ("sqs",),
    "sns": ("sns",),
    "glue": ("glue",),
    "sts": ("sts",),
    "secretsmanager": ("secretsmanager",),
    "ssm": ("ssm",),
    "states": ("states",),
    "events": ("events",),
    "lambda": ("lambda",),
    "athena": ("athena",),
}
# The Lambda service, not the function's network path, uses these for the function.
_SERVICE_SIDE_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")


@rule(code="NET004", name="lambda-service-endpoints", severity=Severity.ERROR,
      category="vpc-endpoints", resource_types=("AWS::Lambda::Function",),
      options={"ignore_actions": _SERVICE_SIDE_ACTIONS}, security=True)
def lambda_service_endpoints(ctx: Context) -> Iterator[Violation]:
    """VPC function calls an AWS service that has no VPC endpoint in the stack.

    ## What it does
    For every `AWS::Lambda::Function` whose `VpcConfig.SubnetIds` are subnets of the stack,
    reads the policies of its execution role (inline, `AWS::IAM::Policy`, `RolePolicy` and
    in-stack managed policies, through the graph) and, for each service an `Allow`
    statement grants actions on (S3, DynamoDB, Kinesis, Firehose, CloudWatch Logs and
    metrics, KMS, SQS, SNS, Glue, STS, Secrets Manager, SSM, Step Functions, EventBridge,
    Lambda, Athena), checks that the function's VPC has an `AWS::EC2::VPCEndpoint` for it
    (`kinesis` needs `kinesis-streams`, `cloudwatch:PutMetricData` needs `monitoring`; S3 and
    DynamoDB may be gateway endpoints). `ServiceName` is read in its usual forms: a literal,
    `!Sub com.amazonaws.${AWS::Region}.sqs`, or a `Fn::Join`. The finding is an error when
    the function's subnets have no route out (the calls time out), a warning when a NAT,
    internet or transit gateway route carries them over the internet path instead.

    ## Why is this bad?
    A function in a private subnet reaches AWS APIs only through a VPC endpoint or a NAT
    gateway. Without either, every SDK call hangs until the function times out; with NAT,
    the traffic leaves the VPC, costs NAT processing per gigabyte, and cannot be restricted
    with endpoint policies. Missing endpoints are the most common reason a pipeline that
    worked outside a VPC breaks inside one.

    ## Example
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      Subnet:
        Type: AWS::EC2::Subnet
        Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Service: lambda.amazonaws.com}
                Action: sts:AssumeRole
          Policies:
            - PolicyName: send
              PolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Effect: Allow
                    Action: sqs:SendMessage
                    Resource: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:out
      Sender:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: !GetAtt Role.Arn
          Code: {ZipFile: "def handler(e, c): pass"}
          VpcConfig:
            SubnetIds: [!Ref Subnet]
            SecurityGroupIds: [sg-0123456789abcdef0]
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      Subnet:
        Type: AWS::EC2::Subnet
        Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}
      SqsEndpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcEndpointType: Interface
          VpcId: !Ref Vpc
          ServiceName: !Sub com.amazonaws.${AWS::Region}.sqs
          PrivateDnsEnabled: true
          SubnetIds: [!Ref Subnet]
          SecurityGroupIds: [sg-0123456789abcdef0]
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Service: lambda.amazonaws.com}
                Action: sts:AssumeRole
          Policies:
            - PolicyName: send
              PolicyDocument:
                Version: "2012-10-17"
                Statement:
                  - Effect: Allow
                    Action: sqs:SendMessage
                    Resource: !Sub arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:out
      Sender:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: !GetAtt Role.Arn
          Code: {ZipFile: "def handler(e, c): pass"}
          VpcConfig:
            SubnetIds: [!Ref Subnet]
            SecurityGroupIds: [sg-0123456789abcdef0]
    ```

    ## Options
    - `ignore_actions` (default `logs:CreateLogGroup`, `logs:CreateLogStream`,
      `logs:PutLogEvents`): actions that do not imply a call from the function's network.
      The Lambda service writes the function's own logs outside the VPC.

    ## Known problems
    The role says what the function may call, not what it calls: a permission used only by
    an event source mapping (Kinesis or SQS polling is done by the Lambda service) asks for
    an endpoint the code may never use; add such actions to `ignore_actions`. KMS data-key
    permissions (`kms:Decrypt`, `kms:GenerateDataKey*`, ...) on keys of the stack that
    encrypt a bucket, table, topic or queue the role uses are not counted: S3, DynamoDB, SNS
    and SQS call KMS themselves. On `*` or on keys from outside the stack they still are.
    AWS managed policies (`arn:aws:iam::aws:policy/...`) and roles
    outside the stack cannot be read. A function in subnets from outside the stack is
    checked against the endpoints the stack places into a VPC from outside (taken to be the
    same shared VPC); when the stack declares none, it is left to NET001.

    ## References
    - [Connecting outbound networking to resources in a VPC (Lambda)](https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html)
    - [AWS services that integrate with AWS PrivateLink](https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html)
    """
    # Endpoints the stack places into a VPC it does not create: taken to serve the functions
    # it places into subnets it does not create (the same shared VPC).
    outside = [e for e in ctx.template.of_type(ENDPOINT)
               if _target(ctx, e.properties.get("VpcId"), VPC) is None]
    for function in ctx.resources():
        subnets = ctx.targets_at(function, "Properties", "VpcConfig", "SubnetIds",
                                 types=(SUBNET,))
        vpcs = {v.logical_id: v for v in (_target(ctx, s.properties.get("VpcId"), VPC)
                                          for s in subnets) if v is not None}
        vpc: Resource | None
        if subnets and len(vpcs) == 1:
            vpc = next(iter(vpcs.values()))
            endpoints = ctx.referring_resources(vpc, types=(ENDPOINT,),
                                                under=("Properties", "VpcId"))
        elif not subnets and outside and _in_outside_subnets(function):
            vpc, endpoints = None, outside
        else:
            continue
        role = _target(ctx, function.properties.get("Role"), "AWS::IAM::Role")
        sources = role_policy_documents(ctx, role) if role is not None else []
        related = [*([vpc] if vpc else []), *subnets, *endpoints, *([role] if role else []),
                   *(s.resource for s in sources)]
        yield from _check_jointly(ctx, function, related, lambda sc, f=function, v=vpc, r=role,
                                  p=sources, e=endpoints, n=subnets:
                                  _function_endpoints(ctx, f, v, r, p, e, n, sc))


def _in_outside_subnets(function: Resource) -> bool:
    config = function.properties.get("VpcConfig")
    return isinstance(config, dict) and config.get("SubnetIds") not in (None, [])


def _called_services(ctx: Context, sources: list[PolicySource], scenario: Scenario
                     ) -> dict[str, str]:
    """IAM service prefix -> one action the role allows on it."""
    ignored = tuple(ctx.option("ignore_actions"))
    found: dict[str, str] = {}
    allowed = [statement for source in sources if _exists(source.resource, scenario)
               for statement in statements(_pick(source.document, scenario))
               if effect_of(statement) == "Allow"]
    used = {name for statement in allowed for text in resources_of(statement, ctx.template,
                                                                    scenario)
            for name in referenced_resources(text, ctx.template)}
    for statement in allowed:
        encryption_only = _for_encrypted_stores(ctx, statement, used, scenario)
        for action in actions_of(statement):
            if encryption_only and action.lower().startswith("kms:"):
                continue
            prefix = action.split(":", 1)[0].lower() if ":" in action else ""
            # `logs:*` is not ignored: it grants more than the ignored actions.
            if prefix in SERVICE_ENDPOINTS and prefix not in found and not any(
                    action_matches(i, action) for i in ignored):
                found[prefix] = action
    return found


# What a role needs of a key to use a store encrypted with it; S3, DynamoDB, SNS and SQS make
# these KMS calls themselves, from their side, when the role reads or writes the store.
_DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                     "kms:DescribeKey")
_KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::Alias")


def _for_encrypted_stores(ctx: Context, statement: Mapping[str, Any], used: set[str],
                          scenario: Scenario) -> bool:
    """The statement's KMS actions are data-key actions on keys of the stack that encrypt
    stores the role uses (it names them in its policies): server-side encryption, not a KMS
    call from the function's network."""
    kms = [a for a in actions_of(statement) if a.lower().startswith("kms:")]
    if not kms or "NotAction" in statement or not all(
            any(action_matches(p, a) for p in _DATA_KEY_ACTIONS) for a in kms):
        return False
    texts = resources_of(statement, ctx.template, scenario)
    keys = [[ctx.template.resources[n] for n in referenced_resources(t, ctx.template)
             if ctx.template.resources[n].type in _KEY_TYPES] for t in texts]
    if not texts or not all(keys):
        return False  # `*` or a key from outside the stack: its use cannot be told
    return all(set(stores_encrypted_with(ctx, key)) & used for named in keys for key in named)


def _function_endpoints(ctx: Context, function: Resource, vpc: Resource | None,
                        role: Resource | None, sources: list[PolicySource],
                        endpoints: list[Resource], subnets: list[Resource],
                        scenario: Scenario) -> Iterator[Violation]:
    path = function.at("Properties", "VpcConfig")
    noun = f"Function `{function.logical_id}`"
    if role is None:
        yield Violation(f"{noun}'s service calls cannot be checked because its role is not "
                        "defined in this stack", function.at("Properties", "Role"),
                        severity=Severity.WARNING)
        return
    available: set[str] = set()
    unreadable = []
    for endpoint in endpoints:
        if not _exists(endpoint, scenario):
            continue
        service = endpoint_service(ctx, ctx.properties_in(endpoint, scenario), scenario)
        if service is None:
            unreadable.append(endpoint.logical_id)
        else:
            available.add(service)
    called = _called_services(ctx, sources, scenario)
    severity = Severity.WARNING if any(_has_route_out(ctx, s, scenario) for s in subnets) \
        else None
    for prefix, action in sorted(called.items()):
        if any(name in available for name in SERVICE_ENDPOINTS[prefix]):
            continue
        wanted = SERVICE_ENDPOINTS[prefix][0]
        if unreadable:
            yield Violation(f"{noun}'s `{wanted}` endpoint cannot be checked because the service "
                            f"name of endpoint `{unreadable[0]}` cannot be read", path,
                            severity=Severity.WARNING, key=prefix)
            continue
        where = f"VPC `{vpc.logical_id}`" if vpc else "a VPC from outside the stack"
        holder = "the VPC" if vpc else "the stack"
        yield Violation(f"{noun} runs in {where} and its role allows `{action}`, but {holder} "
                        f"has no `{wanted}` endpoint", path, severity=severity, key=prefix)


def _has_route_out(ctx: Context, subnet: Resource, scenario: Scenario) -> bool:
    """A route table of the subnet sends some traffic to a NAT, internet or transit gateway,
    an instance or a network interface."""
    for table in _route_tables(ctx, subnet, scenario):
        for route in ctx.referring_resources(table, types=(ROUTE,),
                                             under=("Properties", "RouteTableId")):
            props = ctx.properties_in(route, scenario) if _exists(route, scenario) else {}
            if any(key in props for key in ("NatGatewayId", "GatewayId", "TransitGatewayId",
                                            "InstanceId", "NetworkInterfaceId",
                                            "VpcPeeringConnectionId")):
                return True
    return False


# -------------------------------------------------------------------- network-routing

@rule(code="NET005", name="subnet-route-table-association", severity=Severity.ERROR,
      category="network-routing", resource_types=(SUBNET,), security=True)
def subnet_route_table_association(ctx: Context) -> Iterator[Violation]:
    """Subnet is not associated with a route table of the stack.

    ## What it does
    Checks, through the resource graph, that every `AWS::EC2::Subnet` is named by an
    `AWS::EC2::SubnetRouteTableAssociation` in every condition scenario in which the subnet
    exists. Subnets of an isolated VPC of the stack (no gateway attachment, peering or
    transit attachment, no route in its route tables, no gateway endpoint) are left alone:
    the main route table of a VPC created that way holds only the local route, which is
    exactly what they need.

    ## Why is this bad?
    A subnet without an explicit association silently uses the VPC's main route table, which
    the stack does not define: its routes (internet gateway, NAT, gateway endpoints) are
    whatever someone set by hand. Gateway endpoints attached to the stack's route tables do
    not apply to it, and a later change to the main table changes this subnet too.

    ## Example
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      S3Endpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: !Ref Vpc
          ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
      PrivateSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      S3Endpoint:
        Type: AWS::EC2::VPCEndpoint
        Properties:
          VpcId: !Ref Vpc
          ServiceName: !Sub com.amazonaws.${AWS::Region}.s3
      PrivateSubnet:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
      PrivateRoutes:
        Type: AWS::EC2::RouteTable
        Properties: {VpcId: !Ref Vpc}
      PrivateSubnetRoutes:
        Type: AWS::EC2::SubnetRouteTableAssociation
        Properties:
          SubnetId: !Ref PrivateSubnet
          RouteTableId: !Ref PrivateRoutes
    ```

    ## References
    - [Route tables for your VPC](https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html)
    - [AWS::EC2::SubnetRouteTableAssociation](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-subnetroutetableassociation.html)
    """
    for subnet in ctx.resources():
        vpc = _target(ctx, subnet.properties.get("VpcId"), VPC)
        if vpc is not None and _isolated(ctx, vpc):
            continue  # the fresh main table's local route is all its subnets can use
        associations = ctx.referring_resources(subnet, types=(ASSOCIATION,),
                                               under=("Properties", "SubnetId"))
        yield from _check_jointly(ctx, subnet, associations,
                                  lambda s, n=subnet, a=associations: _associated(n, a, s))


# What gives a VPC routes beyond the local one (attached to the VPC by `VpcId`).
_ROUTING = ("AWS::EC2::VPCGatewayAttachment", "AWS::EC2::TransitGatewayAttachment",
            "AWS::EC2::TransitGatewayVpcAttachment", "AWS::EC2::VPCPeeringConnection",
            "AWS::EC2::EgressOnlyInternetGateway")


def _isolated(ctx: Context, vpc: Resource) -> bool:
    """A VPC of the stack with no way out: no gateway attachment or peering, no route in its
    route tables, no gateway endpoint. Its main route table holds the local route only, which
    is all its subnets need."""
    if ctx.referring_resources(vpc, types=_ROUTING):
        return False
    for table in ctx.referring_resources(vpc, types=(ROUTE_TABLE,)):
        if ctx.referring_resources(table, types=(ROUTE,)):
            return False
    for endpoint in ctx.referring_resources(vpc, types=(ENDPOINT,)):
        kind = _endpoint_type(ctx, endpoint.properties, ())
        if isinstance(kind, Unresolved) or kind == "Gateway":
            return False
    return True


def _associated(subnet: Resource, associations: list[Resource],
                scenario: Scenario) -> Iterator[Violation]:
    if not any(_exists(a, scenario) for a in associations):
        yield Violation(f"Subnet `{subnet.logical_id}` is not associated with a route table, so "
                        "it uses the VPC's main route table", subnet.path)


def _subnet_groups(ctx: Context) -> list[tuple[Resource | None, list[Resource]]]:
    """Subnets grouped by VPC: the VPC resource when it is in the stack, else None (grouped
    by the VpcId expression)."""
    groups: dict[str, tuple[Resource | None, list[Resource]]] = {}
    for subnet in ctx.resources(SUBNET):
        value = subnet.properties.get("VpcId")
        vpc = _target(ctx, value, VPC)
        key = vpc.logical_id if vpc else "external:" + json.dumps(value, sort_keys=True,
                                                                   default=str)
        groups.setdefault(key, (vpc, []))[1].append(subnet)
    return list(groups.values())


@rule(code="NET006", name="subnet-cidr-layout", severity=Severity.ERROR,
      category="network-routing", resource_types=(SUBNET, VPC), security=False)
def subnet_cidr_layout(ctx: Context) -> Iterator[Violation]:
    """Subnet CIDR lies outside its VPC or overlaps another subnet.

    ## What it does
    Evaluates every subnet's `CidrBlock` statically (parameters through their defaults,
    `Fn::Cidr`, `Fn::Select`, `Fn::FindInMap`, `Fn::If` in every scenario, and
    `!GetAtt Vpc.CidrBlock` replaced by the VPC's own `CidrBlock`) and checks that it lies
    inside the VPC's CIDR (or one of its `AWS::EC2::VPCCidrBlock` secondary blocks) and does
    not overlap another subnet of the same VPC. A CIDR that cannot be computed is reported
    as a warning saying why.

    ## Why is this bad?
    CloudFormation rejects such subnets only at deployment, after the VPC and earlier
    resources are created, and rolls the whole stack back. Hand-computed CIDRs are a common
    source of overlaps when a subnet is added or the VPC CIDR parameter changes; deriving
    them with `Fn::Cidr` from the VPC block avoids that.

    ## Example
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      SubnetA:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
      SubnetB:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.128/25
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      SubnetA:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
      SubnetB:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: !Select [1, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
    ```

    ## Known problems
    IPv6 blocks are not checked. A VPC that takes its CIDR from an IPAM pool has no static
    CIDR: only overlaps between its subnets are checked.

    ## References
    - [Subnet CIDR blocks](https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html)
    - [Fn::Cidr](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-cidr.html)
    """
    list(ctx.resources(VPC))  # every VPC is examined, with or without subnets
    for vpc, subnets in _subnet_groups(ctx):
        secondary = ctx.referring_resources(vpc, types=(CIDR_BLOCK,)) if vpc else []
        primary = vpc or subnets[0]
        yield from _check_jointly(ctx, primary, [*subnets, *secondary],
                                  lambda s, n=vpc, b=subnets, c=secondary:
                                  _layout(ctx, n, b, c, s))


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _vpc_blocks(ctx: Context, vpc: Resource, secondary: list[Resource],
                scenario: Scenario) -> list[Network] | Unresolved | None:
    """The VPC's IPv4 blocks; None when it has no static CIDR (IPAM)."""
    values = [_pick(vpc.properties.get("CidrBlock"), scenario)]
    values += [_pick(block.properties.get("CidrBlock"), scenario)
               for block in secondary if _exists(block, scenario)]
    blocks = []
    for value in values:
        if value is None or value is NO_VALUE:
            continue
        network = _network(ctx, value, scenario)
        if isinstance(network, Unresolved):
            return network
        blocks.append(network)
    return blocks or None


def _network(ctx: Context, value: Any, scenario: Scenario) -> Network | Unresolved:
    resolved = ctx.resolve(value, scenario)
    if isinstance(resolved, Unresolved):
        return resolved
    try:
        return ipaddress.ip_network(str(resolved), strict=False)
    except ValueError:
        return Unresolved(f"`{resolved}` is not a CIDR block")


def _with_vpc_cidr(value: Any, vpc: Resource | None) -> Any:
    """Replace `!GetAtt Vpc.CidrBlock` by the VPC's own CidrBlock expression."""
    if vpc is None:
        return value
    if isinstance(value, dict):
        if len(value) == 1 and "Fn::GetAtt" in value:
            arg = value["Fn::GetAtt"]
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if isinstance(parts, list) and parts == [vpc.logical_id, "CidrBlock"]:
                return vpc.properties.get("CidrBlock", value)
            return value
        return {k: _with_vpc_cidr(v, vpc) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_vpc_cidr(v, vpc) for v in value]
    return value


def _layout(ctx: Context, vpc: Resource | None, subnets: list[Resource],
            secondary: list[Resource], scenario: Scenario) -> Iterator[Violation]:
    blocks = _vpc_blocks(ctx, vpc, secondary, scenario) if vpc else None
    vpc_reason = blocks.reason if isinstance(blocks, Unresolved) else None
    if vpc is not None and isinstance(blocks, Unresolved):
        yield Violation(f"VPC `{vpc.logical_id}`'s CIDR cannot be checked because "
                        f"{blocks.reason}", vpc.at("Properties", "CidrBlock"),
                        severity=Severity.WARNING)
    placed: list[tuple[Network, Resource]] = []
    for subnet in subnets:
        if not _exists(subnet, scenario):
            continue
        value = _pick(subnet.properties.get("CidrBlock"), scenario)
        if value is None or value is NO_VALUE:
            continue  # IPv6-only or IPAM-allocated subnet
        path = subnet.at("Properties", "CidrBlock")
        network = _network(ctx, _with_vpc_cidr(value, vpc), scenario)
        if isinstance(network, Unresolved):
            if network.reason != vpc_reason:
                yield Violation(f"Subnet `{subnet.logical_id}`'s CIDR cannot be checked because "
                                f"{network.reason}", path, severity=Severity.WARNING)
            continue
        placed.append((network, subnet))
        if vpc is not None and isinstance(blocks, list) and not any(
                network.version == b.version and network.subnet_of(b)  # type: ignore[arg-type]
                for b in blocks):
            within = ", ".join(str(b) for b in blocks)
            yield Violation(f"Subnet `{subnet.logical_id}` CIDR {network} is outside VPC "
                            f"`{vpc.logical_id}` ({within})", path, key="outside")
    yield from _overlaps(placed)


def _overlaps(placed: list[tuple[Network, Resource]]) -> Iterator[Violation]:
    """Sweep the subnets in address order: each one that starts before the furthest end seen
    so far overlaps the subnet that reaches furthest."""
    ordered = sorted(placed, key=lambda p: (p[0].version, int(p[0].network_address),
                                            p[0].prefixlen))
    furthest: tuple[Network, Resource] | None = None
    for network, subnet in ordered:
        if furthest is not None and furthest[0].version == network.version \
                and int(network.network_address) <= int(furthest[0].broadcast_address):
            other_net, other = furthest
            yield Violation(f"Subnet `{subnet.logical_id}` CIDR {network} overlaps subnet "
                            f"`{other.logical_id}` ({other_net})",
                            subnet.at("Properties", "CidrBlock"), key=f"overlap:{other.logical_id}")
        if furthest is None or furthest[0].version != network.version or \
                int(network.broadcast_address) > int(furthest[0].broadcast_address):
            furthest = (network, subnet)


@rule(code="NET007", name="subnets-span-availability-zones", severity=Severity.WARNING,
      category="network-routing", resource_types=(SUBNET, VPC))
def subnets_span_availability_zones(ctx: Context) -> Iterator[Violation]:
    """VPC's subnets all sit in one availability zone.

    ## What it does
    Groups the stack's subnets by VPC and checks that each group spans at least two
    availability zones in every condition scenario. Zones are compared symbolically:
    `!Select [0, !GetAZs ""]` and `!Select [1, !GetAZs ""]` are two zones, the same index
    twice is one zone, literal names compare as written. A subnet without
    `AvailabilityZone` (AWS picks the zone) makes the check impossible and is reported as a
    warning saying so, unless the other subnets already span two zones.

    ## Why is this bad?
    Everything placed in the VPC (Lambda functions, endpoints, databases) can then run in one
    zone only: a zone outage stops the pipeline, and services that require subnets in two
    zones (RDS subnet groups, load balancers) cannot be added later without new subnets.

    ## Example
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      SubnetA:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
          AvailabilityZone: !Select [0, !GetAZs ""]
      SubnetB:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.1.0/24
          AvailabilityZone: !Select [0, !GetAZs ""]
    ```

    ## Use instead
    ```yaml
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
      SubnetA:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.0.0/24
          AvailabilityZone: !Select [0, !GetAZs ""]
      SubnetB:
        Type: AWS::EC2::Subnet
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.1.0/24
          AvailabilityZone: !Select [1, !GetAZs ""]
    ```

    ## Known problems
    The check is per VPC, not per tier: public subnets in two zones and private subnets in
    one pass. A literal zone name and a `!GetAZs` index are taken to be different zones.

    ## References
    - [Subnets for your VPC](https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html)
    - [Fn::GetAZs](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getavailabilityzones.html)
    """
    list(ctx.resources(VPC))
    for vpc, subnets in _subnet_groups(ctx):
        if _one_zone_by_design(ctx, subnets):
            continue
        primary = vpc or subnets[0]
        yield from _check_jointly(ctx, primary, subnets,
                                  lambda s, n=vpc, b=subnets: _spread(ctx, n, b, s))


# Resources that serve a subnet rather than run in it: they say nothing about the workload.
_SUBNET_PLUMBING = (ASSOCIATION, "AWS::EC2::SubnetNetworkAclAssociation",
                    "AWS::EC2::SubnetCidrBlock", "AWS::EC2::NatGateway", ENDPOINT,
                    "AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment")


def _one_zone_by_design(ctx: Context, subnets: list[Resource]) -> bool:
    """The one workload placed into these subnets lives in one zone by design (a single
    instance, a single-instance broker): more zones would not keep it up."""
    workloads = {r.logical_id: r for subnet in subnets
                 for r in ctx.referring_resources(subnet)
                 if r.type not in _SUBNET_PLUMBING and r.type != SUBNET}
    return len(workloads) == 1 and all(ctx.roles.single_zone(r) for r in workloads.values())


def _spread(ctx: Context, vpc: Resource | None, subnets: list[Resource],
            scenario: Scenario) -> Iterator[Violation]:
    present = [s for s in subnets if _exists(s, scenario)]
    if not present:
        return
    zones, unknown = _zones(ctx, present, scenario)
    if len(zones) >= 2:
        return
    if vpc is not None:
        noun, path = f"VPC `{vpc.logical_id}`", vpc.path
    else:
        names = ", ".join(f"`{s.logical_id}`" for s in present)
        noun, path = f"The VPC of subnet {names}", present[0].path
    if len(present) == 1 and unknown:  # one subnet is one zone, whichever one AWS picks
        yield Violation(f"{noun} has one subnet (`{present[0].logical_id}`), so one "
                        "availability zone", path)
    elif unknown:
        yield Violation(f"{noun}'s availability zones cannot be checked because "
                        f"{unknown[0].reason}", path, key="zones-unknown")
    else:
        # The zone, not the subnets: which subnets exist varies by scenario, the problem not.
        zone = next(iter(zones), "")
        yield Violation(f"{noun} has subnets in only one availability zone"
                        + (f" ({zone})" if zone else ""), path)
