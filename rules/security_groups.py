"""Security groups open to the internet (category `security-group-open`).

Rules are read from both places CloudFormation accepts them: inline `SecurityGroupIngress` /
`SecurityGroupEgress` lists of `AWS::EC2::SecurityGroup`, and standalone
`AWS::EC2::SecurityGroupIngress` / `AWS::EC2::SecurityGroupEgress` resources. Inline rules are
checked one list item at a time so that a finding points at the item as written, even when an
`Fn::If` removes an earlier item in some scenario.

The security group of an internet-facing load balancer (the core's `Purpose.PUBLIC_ENTRY`,
read from the graph) exists to accept web traffic from anyone: tcp 80 and 443 from anywhere are
its job, not a finding. Every other port from anywhere is reported on it as on any group. A
group used only by load balancers (`Purpose.LOAD_BALANCER_GROUP`) is not asked to restrict its
egress: a load balancer only connects to its registered targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from cfnaudit.rule import (
    Context,
    Purpose,
    Resource,
    Scenario,
    Severity,
    Unresolved,
    Violation,
    excludes_anywhere,
    fold,
    group_users,
    guards_hosts_or_interfaces,
    hosts_needing_internet,
    in_subnets_without_exit,
    internal_entry,
    internet_unreachable,
    is_no_value,
    opens_no_connections,
    private_entry,
    rule,
)

Path = tuple[str | int, ...]

GROUP = "AWS::EC2::SecurityGroup"
INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"
ANYWHERE = {"CidrIp": "0.0.0.0/0", "CidrIpv6": "::/0"}
WEB_PORTS = frozenset({80, 443})
_PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def _chosen_path(ctx: Context, raw: Any, scenario: Scenario, path: Path) -> Path:
    """The path of the `Fn::If` branch that `scenario` picks inside `raw`."""
    outcomes = dict(scenario)
    while isinstance(raw, dict) and len(raw) == 1 and isinstance(raw.get("Fn::If"), list) \
            and len(raw["Fn::If"]) == 3 and isinstance(raw["Fn::If"][0], str) \
            and raw["Fn::If"][0] in outcomes:
        index = 1 if outcomes[raw["Fn::If"][0]] else 2
        raw = raw["Fn::If"][index]
        # The decoder marks a short-form `!If` branch without the `Fn::If` key (core issue).
        long_form = (*path, "Fn::If", index)
        path = long_form if ctx.template.marks.value(long_form) else (*path, index)
    return path


def _entries(ctx: Context, resource: Resource, key: str
             ) -> Iterator[list[tuple[Scenario, Mapping[str, Any], Path]]]:
    """Each inline rule of `resource.Properties.key` as its value and path in every scenario
    that changes it (the path leads into the chosen `Fn::If` branch)."""
    raw = resource.properties.get(key)
    base = resource.at("Properties", key)
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            yield [(s, v, _chosen_path(ctx, item, s, (*base, i)))
                   for s, v in ctx.variants_of(resource, item) if isinstance(v, Mapping)]
    elif raw is not None:
        # The whole list is an Fn::If: point at the property, check every item of each branch.
        for scenario, value in ctx.variants_of(resource, raw):
            items = value if isinstance(value, list) else []
            for item in items:
                if isinstance(item, Mapping):
                    yield [(scenario, item, base)]


def _protocol(ctx: Context, entry: Mapping[str, Any], scenario: Scenario) -> str | Unresolved:
    value = ctx.read_text(entry.get("IpProtocol", "-1"), scenario, what="IpProtocol")
    if isinstance(value, Unresolved):
        return value
    text = (value or "-1").strip().lower()
    return "all" if text in ("-1", "all") else _PROTOCOL_NAMES.get(text, text)


def _open_source(ctx: Context, entry: Mapping[str, Any], scenario: Scenario,
                 path: Path) -> tuple[str | None, Violation | None]:
    """The open range (`0.0.0.0/0` or `::/0`) the rule admits, or a 'cannot be checked'."""
    for key, anywhere in ANYWHERE.items():
        if key not in entry or is_no_value(entry[key]):
            continue
        value = ctx.resolve(entry[key], scenario)
        raw = entry[key]
        name = raw.get("Ref") if isinstance(raw, dict) and len(raw) == 1 else None
        if isinstance(value, Unresolved) and isinstance(name, str) \
                and excludes_anywhere(ctx, name):
            continue  # a VPC's or subnet's block, or a pattern that rejects the internet
        if isinstance(value, Unresolved):
            return None, Violation(f"`{key}` cannot be checked because {value.reason}",
                                   (*path, key), severity=Severity.WARNING)
        text = str(value).strip()
        if _whole_internet(text, anywhere):
            shown = anywhere if text == anywhere else f"{text} (a /0 prefix: {anywhere})"
            if isinstance(name, str) and name in ctx.template.parameters:
                return f"{shown} (parameter `{name}`)", None
            return shown, None
    return None, None


def _whole_internet(text: str, anywhere: str) -> bool:
    """A /0 prefix is the whole address space whatever its address bits: EC2 masks the host
    bits of a rule's CIDR (`192.168.1.0/0` is stored as `0.0.0.0/0`)."""
    address, _, prefix = text.partition("/")
    family_ok = (":" in address) == (":" in anywhere)
    return text == anywhere or (family_ok and bool(address) and prefix.strip() == "0")


def _ports(ctx: Context, entry: Mapping[str, Any], protocol: str,
           scenario: Scenario) -> tuple[int, int] | Unresolved | None:
    """(from, to) for tcp/udp; None meaning every port."""
    if protocol == "all":
        return None
    low = ctx.read_int(entry.get("FromPort", -1), scenario, what="FromPort")
    high = ctx.read_int(entry.get("ToPort", -1), scenario, what="ToPort")
    for value in (low, high):
        if isinstance(value, Unresolved):
            return value
    first = -1 if low is None else low
    last = -1 if high is None else high
    if first < 0 or last < 0 or protocol not in ("tcp", "udp"):
        return None if protocol in ("tcp", "udp") else (first, last)
    return first, last


def _cidr_key(source: str) -> str:
    """The property an open source was read from: only an IPv6 range holds a colon."""
    return "CidrIpv6" if ":" in source.split(" ", 1)[0] else "CidrIp"


def _describe_ports(protocol: str, ports: tuple[int, int] | None) -> str:
    if protocol == "all":
        return "all traffic"
    if protocol not in ("tcp", "udp"):
        return f"protocol {protocol}"
    if ports is None or ports == (0, 65535):
        return f"every {protocol} port"
    first, last = ports
    return f"{protocol} port {first}" if first == last else f"{protocol} ports {first}-{last}"


# ---------------------------------------------------------------------------- ingress

@rule(code="SG001", name="security-group-open-ingress", severity=Severity.ERROR,
      category="security-group-open", resource_types=(GROUP, INGRESS), security=True)
def security_group_open_ingress(ctx: Context) -> Iterator[Violation]:
    """Security group admits traffic from the whole internet.

    ## What it does
    Checks every ingress rule (inline `SecurityGroupIngress` items and standalone
    `AWS::EC2::SecurityGroupIngress` resources) for `CidrIp: 0.0.0.0/0` or
    `CidrIpv6: ::/0`, read through parameters, mappings and `Fn::If`. Such a rule is an
    error, except when it opens only tcp port 80 or 443, which is a warning, and not
    reported at all on the security group of an internet-facing load balancer (found
    through the graph: named in the `SecurityGroups` of an `AWS::ElasticLoadBalancingV2::`
    or classic `AWS::ElasticLoadBalancing::LoadBalancer` whose `Scheme` is
    `internet-facing`, the default): accepting web traffic from anyone is its purpose. Any
    other port open to the internet on such a group is still reported. The same holds for
    a group that guards only load balancers with `Scheme: internal` (they have private
    addresses only, whatever the VPC), or only such load balancers and interface VPC
    endpoints in a VPC the stack declares without an internet gateway: no connection from
    the internet can reach them. Any `/0` prefix is the whole internet, whatever its
    address bits (EC2 masks them: `192.168.1.0/0` is stored as `0.0.0.0/0`). A CIDR that cannot
    be determined is reported as a warning saying why, except a parameter that cannot be
    the internet: its name says it holds a VPC's or subnet's block (`PeerVPCCIDR`; such
    blocks are /16 to /28), or its `AllowedValues`/`AllowedPattern` reject `0.0.0.0/0`.

    ## Why is this bad?
    Anything reachable from `0.0.0.0/0` is scanned within minutes of creation. SSH, RDP and
    database ports open to the internet are the most common initial access path in cloud
    breaches. A data pipeline's resources (functions, endpoints, databases) never need
    inbound traffic from the internet; even web ports belong behind a load balancer or
    CloudFront.

    ## Example
    ```yaml
    Resources:
      AdminAccess:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: admin
          SecurityGroupIngress:
            - IpProtocol: tcp
              FromPort: 22
              ToPort: 22
              CidrIp: 0.0.0.0/0
    ```

    ## Use instead
    ```yaml
    Resources:
      AdminAccess:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: admin
          SecurityGroupIngress:
            - IpProtocol: tcp
              FromPort: 22
              ToPort: 22
              CidrIp: 10.20.0.0/16
    ```

    ## Known problems
    ICMP and other non-port protocols open to the internet are reported as errors.
    Prefix lists and source security groups are not expanded.

    ## References
    - [Security group rules](https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html)
    - [AWS::EC2::SecurityGroupIngress](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroupingress.html)
    """
    for group in ctx.resources(GROUP):
        noun = f"Security group `{group.logical_id}`"
        public = _public_entry(ctx, group.logical_id)
        for variants in _entries(ctx, group, "SecurityGroupIngress"):
            yield from fold([(s, list(_ingress(ctx, noun, e, s, p, public)))
                             for s, e, p in variants])
    for resource in ctx.resources(INGRESS):
        target = ctx.ref_target(resource.properties.get("GroupId"))
        noun = f"Ingress rule `{resource.logical_id}`" + (f" of `{target}`" if target else "")
        public = _public_entry(ctx, target)
        yield from ctx.each_variant(resource, lambda v, r=resource, n=noun, p=public: _ingress(
            ctx, n, v.properties, v.scenario, r.at("Properties"), p))


def _load_balancer_group(ctx: Context, group_id: str | None) -> bool:
    group = ctx.template.resources.get(group_id) if group_id else None
    return group is not None and ctx.role(group).has(Purpose.LOAD_BALANCER_GROUP)


def _public_entry(ctx: Context, group_id: str | None) -> bool:
    """The group's web ports may accept any address: an internet-facing load balancer's,
    or an entry point no internet connection can reach (`internal_entry`)."""
    group = ctx.template.resources.get(group_id) if group_id else None
    return group is not None and (ctx.role(group).has(Purpose.PUBLIC_ENTRY)
                                  or internal_entry(ctx, group) or private_entry(ctx, group))


def _ingress(ctx: Context, noun: str, entry: Mapping[str, Any], scenario: Scenario,
             path: Path, public_entry: bool = False) -> Iterator[Violation]:
    source, unknown = _open_source(ctx, entry, scenario, path)
    if unknown is not None:
        yield replace(unknown, message=f"{noun}'s ingress {unknown.message}")
    if source is None:
        return
    where = (*path, _cidr_key(source))
    protocol = _protocol(ctx, entry, scenario)
    if isinstance(protocol, Unresolved):
        yield Violation(f"{noun} allows traffic from {source} on a protocol that cannot be "
                        f"determined because {protocol.reason}", where)
        return
    ports = _ports(ctx, entry, protocol, scenario)
    if isinstance(ports, Unresolved):
        yield Violation(f"{noun} allows {protocol} from {source} on ports that cannot be "
                        f"determined because {ports.reason}", where)
        return
    web = protocol == "tcp" and ports is not None and ports[0] == ports[1] \
        and ports[0] in WEB_PORTS
    if web and public_entry:
        return  # a load balancer's or endpoint's listener port
    yield Violation(f"{noun} allows {_describe_ports(protocol, ports)} from {source}", where,
                    severity=Severity.WARNING if web else None)


# ----------------------------------------------------------------------------- egress

@rule(code="SG002", name="security-group-unrestricted-egress", severity=Severity.ERROR,
      category="security-group-open", resource_types=(GROUP, EGRESS),
      options={"flag_default_egress": True, "flag_unattached": False}, security=True)
def security_group_unrestricted_egress(ctx: Context) -> Iterator[Violation]:
    """Security group lets all traffic out to the whole internet.

    ## What it does
    Reports egress rules (inline `SecurityGroupEgress` items and standalone
    `AWS::EC2::SecurityGroupEgress` resources) with `IpProtocol: -1` to `0.0.0.0/0` or
    `::/0`, and security groups with no inline `SecurityGroupEgress` at all: for those,
    EC2 adds its default rule allowing all traffic to `0.0.0.0/0`, which standalone egress
    resources do not remove. Reporting the implicit default too is deliberate: otherwise
    deleting an explicit allow-all rule would silence the finding without changing anything.
    Groups used only by load balancers (found through the graph: named in the
    `SecurityGroups` of load balancers and attached to nothing else) are left out: a load
    balancer connects only to its registered targets.

    Scope: the rule is about code that handles the stack's data reaching the internet. It
    applies to groups of functions, tasks, Glue connections and anything not listed below,
    and to every group of a stack that declares interface VPC endpoints (a private network
    designed to need no internet). It leaves out groups attached only to managed interfaces that
    open no connections (EFS and S3 Files mount targets, Amazon MQ brokers, RDS, DocumentDB,
    ElastiCache, MemoryDB, Redshift, OpenSearch, MSK, load balancers; the group of VPC
    endpoints stays in scope, as the network's entry to AWS services), and
    groups of general-purpose and container hosts (instances, launch configurations and
    templates, Batch compute environments, ECS services, task sets and the task definitions a
    function runs with the group, EKS clusters) that no interface VPC endpoint serves: none
    is declared in the group's VPC, or every host sits in a public subnet (routed to an
    internet gateway). They install packages and pull images from the internet. Groups of
    hosts, containers, endpoints and managed interfaces in a VPC the stack declares with no
    way out (no internet or VPN gateway, NAT, transit or peering attachment, and no route)
    are left out too: their egress reaches only the VPC. So are such groups when every
    resource they guard names its subnets, each declared in the stack and associated with
    route tables whose routes all lead to private ranges (no `0.0.0.0/0` to an internet or
    NAT gateway, no VPN route propagation), even when another route table of the VPC is
    public. A function's group stays in scope
    there: it is the one place its data path is written, and a route added later changes
    nothing in it. A group attached to nothing in the stack is asked only under
    `flag_unattached`. A group that a restricting standalone
    `AWS::EC2::SecurityGroupEgress` rule targets (anything but all traffic to anywhere) still
    has its missing inline egress reported whatever it guards: the author meant to restrict
    it and EC2's default rule undoes that.

    ## Why is this bad?
    Unrestricted egress lets a compromised function or instance send data anywhere and reach
    any command-and-control host. Resources in a private pipeline need HTTPS to the VPC
    endpoints (the VPC CIDR and the S3/DynamoDB prefix lists) and nothing else.

    ## Example
    ```yaml
    Resources:
      FunctionGroup:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: functions
          SecurityGroupEgress:
            - IpProtocol: "-1"
              CidrIp: 0.0.0.0/0
      Function:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/fn
          Code: {ZipFile: "def handler(e, c): pass"}
          VpcConfig:
            SubnetIds: [subnet-0123456789abcdef0]
            SecurityGroupIds: [!Ref FunctionGroup]
    ```

    ## Use instead
    ```yaml
    Resources:
      FunctionGroup:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: functions
          SecurityGroupEgress:
            - IpProtocol: tcp
              FromPort: 443
              ToPort: 443
              CidrIp: 10.0.0.0/16
      Function:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/fn
          Code: {ZipFile: "def handler(e, c): pass"}
          VpcConfig:
            SubnetIds: [subnet-0123456789abcdef0]
            SecurityGroupIds: [!Ref FunctionGroup]
    ```

    ## Options
    - `flag_default_egress` (default `true`): also report security groups that declare no
      inline egress and so keep EC2's default allow-all egress rule. To keep a group without
      egress, declare a rule that matches nothing useful, e.g.
      `{IpProtocol: "-1", CidrIp: 127.0.0.1/32}`.
    - `flag_unattached` (default `false`): also report groups attached to nothing in the
      stack (a spare group of a VPC scaffold, a group exported for other stacks, one a
      function hands to what it launches without the stack showing what): what they will
      guard is unknown here.

    ## Known problems
    tcp or udp rules covering every port to `0.0.0.0/0` are not reported; only all-protocol
    rules are.

    ## References
    - [Default security group rules](https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html#default-security-group-rules)
    - [AWS::EC2::SecurityGroup SecurityGroupEgress](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html#cfn-ec2-securitygroup-securitygroupegress)
    """
    for group in ctx.resources(GROUP):
        if ctx.role(group).has(Purpose.LOAD_BALANCER_GROUP):
            continue  # a load balancer connects only to its targets
        noun = f"Security group `{group.logical_id}`"
        outside = _egress_outside_scope(ctx, group)
        if not outside:
            for variants in _entries(ctx, group, "SecurityGroupEgress"):
                yield from fold([(s, list(_egress(ctx, noun, e, s, p)))
                                 for s, e, p in variants])
        # Standalone egress rules show the author meant to restrict the group: EC2's default
        # rule, which they do not remove, defeats that whatever the group guards.
        restricted = any(not _allows_everything(r.properties) for r in ctx.referring_resources(
            group, types=(EGRESS,), under=("Properties", "GroupId")))
        if ctx.option("flag_default_egress") and (not outside or restricted):
            yield from ctx.each_variant(group, lambda v, g=group, n=noun: _default_egress(
                n, g, v.properties))
    for resource in ctx.resources(EGRESS):
        target = ctx.ref_target(resource.properties.get("GroupId"))
        if _load_balancer_group(ctx, target):
            continue
        group = ctx.template.resources.get(target) if target else None
        if group is not None and group.type == GROUP and _egress_outside_scope(ctx, group):
            continue
        noun = f"Egress rule `{resource.logical_id}`" + (f" of `{target}`" if target else "")
        yield from ctx.each_variant(resource, lambda v, r=resource, n=noun: _egress(
            ctx, n, v.properties, v.scenario, r.at("Properties")))


def _allows_everything(entry: Mapping[str, Any]) -> bool:
    """A rule written as all traffic to anywhere: it restricts nothing."""
    return str(entry.get("IpProtocol", "")).strip().lower() in ("-1", "all") and any(
        str(entry.get(key, "")).strip() == anywhere for key, anywhere in ANYWHERE.items())


def _egress_outside_scope(ctx: Context, group: Resource) -> bool:
    """Open egress is not this group's risk: it guards only managed interfaces that open no
    connections, or hosts that need the internet because no endpoint serves them, or hosts
    and interfaces in a VPC with no way out or in subnets routed only to private ranges, or
    (unless `flag_unattached`) nothing at all."""
    return opens_no_connections(ctx, group) or hosts_needing_internet(ctx, group) \
        or (guards_hosts_or_interfaces(ctx, group) and (
            internet_unreachable(ctx, group) or in_subnets_without_exit(ctx, group))) \
        or (not ctx.option("flag_unattached") and not group_users(ctx, group))


def _egress(ctx: Context, noun: str, entry: Mapping[str, Any], scenario: Scenario,
            path: Path) -> Iterator[Violation]:
    source, unknown = _open_source(ctx, entry, scenario, path)
    if unknown is not None:
        yield replace(unknown, message=f"{noun}'s egress {unknown.message}")
    if source is None:
        return
    protocol = _protocol(ctx, entry, scenario)
    if isinstance(protocol, Unresolved):
        yield Violation(f"{noun}'s egress protocol cannot be checked because {protocol.reason}",
                        (*path, "IpProtocol"))
    elif protocol == "all":
        yield Violation(f"{noun} allows all traffic out to {source}", (*path, _cidr_key(source)))


def _default_egress(noun: str, group: Resource, properties: Mapping[str, Any]
                    ) -> Iterator[Violation]:
    rules = properties.get("SecurityGroupEgress")
    if (isinstance(rules, list) and rules) or isinstance(rules, dict):
        return
    yield Violation(f"{noun} declares no egress rules, so EC2 keeps its default rule allowing "
                    "all traffic out to 0.0.0.0/0", group.path, key="default-egress")
