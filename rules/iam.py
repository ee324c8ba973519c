"""Identity policies: wildcards and explicit deny guardrails (codes IAM001-IAM003).

Identity policies are the inline `Policies` of roles, users and groups and the standalone
`AWS::IAM::Policy`, `ManagedPolicy`, `RolePolicy`, `UserPolicy` and `GroupPolicy` resources.
Resource policies (bucket and key policies) are not identity policies: `kms:*` for the account
root in a key policy is the standard administrator statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    DATA_STORE_TYPES,
    STAR_ONLY_ACTIONS,
    Context,
    Resource,
    Scenario,
    Severity,
    Variant,
    Violation,
    accepts_star,
    actions_of,
    broad_writes,
    denied,
    effect_of,
    exists_in,
    fixed_logic_role,
    full_access_services,
    in_scenario,
    located_statements,
    not_actions_of,
    pattern_matches,
    referenced_resources,
    render,
    resources_of,
    role_policy_documents,
    rule,
    scoped_by_condition,
    subtracting_denies,
)

Path = tuple[str | int, ...]
WITH_INLINE = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
STANDALONE = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
              "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy")
IDENTITY = WITH_INLINE + STANDALONE

# The allowlist shared by IAM001 (service wildcards) and IAM002 (`Resource: "*"`) lives in
# the core (`cfnaudit.scope.STAR_ONLY_ACTIONS`); users extend or replace it for IAM002 with
# the `star_resource_actions` option.


def identity_documents(ctx: Context, resource: Resource, v: Variant
                       ) -> Iterator[tuple[Path, Any, str]]:
    """(path, document, noun) of each identity policy held by `resource` in variant `v`."""
    if resource.type in WITH_INLINE:
        policies = v.properties.get("Policies")
        for i, item in enumerate(policies if isinstance(policies, list) else []):
            if isinstance(item, dict):
                name = item.get("PolicyName")
                noun = f"policy `{name}` of `{resource.logical_id}`" if isinstance(
                    name, str) else f"an inline policy of `{resource.logical_id}`"
                yield (resource.at("Properties", "Policies", i, "PolicyDocument"),
                       item.get("PolicyDocument"), noun)
    else:
        yield (resource.at("Properties", "PolicyDocument"), v.properties.get("PolicyDocument"),
               f"policy `{resource.logical_id}`")


def _allow_statements(ctx: Context, resource: Resource, v: Variant
                      ) -> Iterator[tuple[Path, Mapping[str, Any], str, tuple[Any, ...]]]:
    """(path, statement, noun, denies) of each Allow; `denies` are the unconditioned Deny
    statements of the same resource's policies (a role's inline policies and the policies
    attached to it in the stack, or the one standalone document), which the rules subtract
    before judging."""
    documents = list(identity_documents(ctx, resource, v))
    attached = [in_scenario(source.document, v.scenario)
                for source in (role_policy_documents(ctx, resource)
                               if resource.type == "AWS::IAM::Role" else ())
                # a policy with its own Condition may not exist: its Deny is not counted
                if source.resource is not resource and source.resource.condition is None]
    denies = subtracting_denies([*(document for _, document, _ in documents), *attached])
    for base, document, noun in documents:
        for path, statement in located_statements(document, base):
            if effect_of(statement) == "Allow":
                yield path, statement, noun, denies


# ------------------------------------------------------------------- IAM001 wildcard action


def _is_full_wildcard(action: str) -> bool:
    service, _, name = action.partition(":")
    return action.strip() == "*" or (name == "*" and service != "")


def _wildcard_actions(ctx: Context, resource: Resource, v: Variant) -> Iterator[Violation]:
    for path, statement, noun, denies in _allow_statements(ctx, resource, v):
        if "NotAction" in statement:
            excluded = ", ".join(f"`{a}`" for a in not_actions_of(statement))
            yield Violation(f"Statement in {noun} allows every action except {excluded} "
                            "(`Allow` with `NotAction`)", path)
            continue
        reached = resources_of(statement, ctx.template, v.scenario)
        wide = [a for a in actions_of(statement)
                if _is_full_wildcard(a) and not accepts_star(a)
                and not denied(a, reached, denies, ctx.template, v.scenario)]
        if "*" in (a.strip() for a in wide):
            yield Violation(f"Statement in {noun} allows every action (`*`)", path)
        elif wide:
            listed = ", ".join(f"`{a}`" for a in wide)
            yield Violation(f"Statement in {noun} allows all actions of a service ({listed})",
                            path)


@rule(code="IAM001", name="iam-wildcard-action", severity=Severity.ERROR,
      category="iam-wildcard", resource_types=IDENTITY, security=True)
def wildcard_action(ctx: Context) -> Iterator[Violation]:
    """Identity policy allows every action, or every action of a service.

    ## What it does
    Reports `Allow` statements of identity policies (inline `Policies` of roles, users and
    groups; `AWS::IAM::Policy`, `ManagedPolicy`, `RolePolicy`, `UserPolicy`, `GroupPolicy`)
    whose `Action` contains `*` or `service:*`, and `Allow` statements that use `NotAction`
    (everything except a list). Every condition scenario is checked. Key and bucket policies
    are not identity policies and are not checked here. A service wildcard over a service
    whose every action is granted on `*` anyway (the Session Manager agent channels
    `ssmmessages:*` and `ec2messages:*`) is accepted: it is on the allowlist IAM002 uses.

    ## Why is this bad?
    `s3:*` includes `s3:DeleteBucket`, `s3:PutBucketPolicy` and `s3:PutEncryptionConfiguration`:
    a compromised function can remove the controls that protect the data, not only read it.
    New actions added to a service are granted automatically.

    ## Example
    ```yaml
    Resources:
      ProcessorRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
          Policies:
            - PolicyName: data
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: s3:*
                    Resource: arn:aws:s3:::raw-data/*
    ```

    ## Use instead
    ```yaml
    Resources:
      ProcessorRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
          Policies:
            - PolicyName: data
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: [s3:GetObject, s3:PutObject]
                    Resource: arn:aws:s3:::raw-data/*
    ```

    ## References
    - [Grant least privilege (IAM best practices)](https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege)
    - [IAM JSON policy elements: NotAction](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html)
    """
    for resource in ctx.resources():
        yield from ctx.each_variant(resource, lambda v, r=resource: _wildcard_actions(ctx, r, v))


# ----------------------------------------------------------------- IAM002 wildcard resource


def _wildcard_resource(ctx: Context, resource: Resource, v: Variant) -> Iterator[Violation]:
    allowed = tuple(str(a) for a in ctx.option("star_resource_actions"))
    for path, statement, noun, denies in _allow_statements(ctx, resource, v):
        if "NotAction" in statement or "*" not in resources_of(statement, ctx.template,
                                                               v.scenario):
            continue
        if scoped_by_condition(statement, ctx.template, v.scenario):
            continue  # `kms:RequestAlias`, `aws:ResourceTag/...`: not every resource
        flagged = [a for a in actions_of(statement) if not accepts_star(a, allowed)
                   and not denied(a, ("*",), denies, ctx.template, v.scenario)]
        if flagged:
            listed = ", ".join(f"`{a}`" for a in flagged[:4]) + (
                f" and {len(flagged) - 4} more" if len(flagged) > 4 else "")
            yield Violation(f"Statement in {noun} allows {listed} on every resource "
                            "(`Resource: \"*\"`)", path)


@rule(code="IAM002", name="iam-wildcard-resource", severity=Severity.ERROR,
      category="iam-wildcard", resource_types=IDENTITY,
      options={"star_resource_actions": list(STAR_ONLY_ACTIONS)}, security=True)
def wildcard_resource(ctx: Context) -> Iterator[Violation]:
    """Identity policy allows data-plane actions on every resource.

    ## What it does
    Reports `Allow` statements of identity policies with `Resource: "*"` whose actions are
    not in the allowlist of actions that only accept `*` or only read metadata. The default
    allowlist (`star_resource_actions`) holds `cloudwatch:PutMetricData` and metric reads,
    X-Ray trace and sampling calls, the ENI management a function in a VPC needs
    (`ec2:CreateNetworkInterface`, `ec2:DeleteNetworkInterface`,
    `ec2:Assign/UnassignPrivateIpAddresses`), `s3:ListAllMyBuckets`,
    `sts:GetCallerIdentity`, `ecr:GetAuthorizationToken`,
    `secretsmanager:GetRandomPassword`, `tag:GetResources`, `ecs:DiscoverPollEndpoint`, the
    Session Manager channels (`ssmmessages:*`, `ec2messages:*`) and the agent's
    `ssm:UpdateInstanceInformation`, `config:PutEvaluations`, every `List*` and
    `Describe*` action, and the statements AWS's own managed policies grant on `*`: log
    writing of the basic-execution policies (`logs:CreateLogGroup`, `CreateLogStream`,
    `PutLogEvents`), vended-log delivery (`logs:*LogDelivery*`, `PutResourcePolicy`,
    `DescribeResourcePolicies`), and the ECS container-instance and service roles. IAM001
    shares this list. Statements using `NotAction` are left to IAM001.

    A statement whose condition must match the resource itself (`kms:RequestAlias`,
    `kms:ResourceAliases`, `<service>:ResourceTag/<key>`, `s3:prefix`,
    `secretsmanager:SecretId`; not negated, not `IfExists`) does not reach every resource and
    is not reported: for a key in another account an alias condition is the way to scope.
    `ec2:AcceptVpcPeeringConnection` is on the allowlist: the connection an accepter role
    accepts is created later by the requester, its id cannot be written in the template.

    Unconditioned `Deny` statements of the same role's policies (or of the same standalone
    policy) are subtracted first: an action denied on every resource it could name is not
    reported (`sns:Publish` on `*` with a Deny on `arn:aws:sns:*:*` leaves only SMS to phone
    numbers, which have no ARN). A Deny with a condition, `NotAction` or `NotResource`
    subtracts nothing; IAM001 subtracts the same way over the statement's resources.

    ## Why is this bad?
    `s3:GetObject` on `*` reads every bucket of the account, including other teams' data and
    other stacks' state; `dynamodb:PutItem` on `*` writes to every table. Scoping to the
    stack's resources (`!GetAtt Table.Arn`, `!Sub "${Bucket.Arn}/*"`) limits the blast radius
    of a compromised function.

    ## Example
    ```yaml
    Resources:
      ValidatorPolicy:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [dynamodb:PutItem, cloudwatch:PutMetricData]
                Resource: "*"
    ```

    ## Use instead
    ```yaml
    Resources:
      Lineage:
        Type: AWS::DynamoDB::Table
        Properties:
          BillingMode: PAY_PER_REQUEST
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          KeySchema: [{AttributeName: id, KeyType: HASH}]
      ValidatorPolicy:
        Type: AWS::IAM::ManagedPolicy
        Properties:
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: dynamodb:PutItem
                Resource: !GetAtt Lineage.Arn
              - Effect: Allow
                Action: cloudwatch:PutMetricData
                Resource: "*"
    ```

    ## Options
    - `star_resource_actions`: action patterns allowed on `Resource: "*"` (replaces the
      default list).

    ## References
    - [Actions, resources and condition keys for AWS services](https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
    - [Grant least privilege](https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege)
    """
    for resource in ctx.resources():
        yield from ctx.each_variant(resource,
                                    lambda v, r=resource: _wildcard_resource(ctx, r, v))


# -------------------------------------------------------------------- IAM003 explicit deny

_STORE_ARN_PATTERNS = {
    "s3": "arn:aws:s3:::example/key",
    "dynamodb": "arn:aws:dynamodb:region:111122223333:table/example",
    "kinesis": "arn:aws:kinesis:region:111122223333:stream/example",
}


def _stores_written(ctx: Context, statement: Mapping[str, Any], scenario: Scenario,
                    stores: dict[str, list[str]], fixed_logic: bool) -> list[str]:
    """Logical ids of the stack's data stores the Allow statement lets the role destroy or
    reconfigure (wildcards expanded: `s3:*Object` and `kinesis:PutRecord*` write objects and
    records only, and leave nothing for a Deny to add). A role only a fixed-logic service
    assumes (S3 Files, QLDB streams, ...) does what that service does: its exact actions on
    its own stores count only when a wildcard action or resource widens them."""
    found: list[str] = []
    patterns = resources_of(statement, ctx.template, scenario)
    exact = fixed_logic and "NotAction" not in statement and not any(
        "*" in a or "?" in a for a in actions_of(statement))
    for service, names in stores.items():
        if not broad_writes(statement, service):
            continue
        for pattern in patterns:
            named = [] if exact else [
                n for n in referenced_resources(pattern, ctx.template) if n in names]
            if not named and pattern_matches(pattern, _STORE_ARN_PATTERNS[service]):
                named = names  # `*` or a service-wide wildcard reaches every store
            found.extend(n for n in named if n not in found)
    return found


def _explicit_deny(ctx: Context, role: Resource, sources: list[Any],
                   stores: dict[str, list[str]], scenario: Scenario) -> Iterator[Violation]:
    written: list[str] = []
    arns = in_scenario(role.properties.get("ManagedPolicyArns"), scenario)
    for arn in arns if isinstance(arns, list) else []:
        # rendered, not resolved: `arn:${AWS::Partition}:iam::aws:policy/...` is still known
        for service in sorted(full_access_services(render(arn, ctx.template, scenario))):
            written.extend(n for n in stores.get(service, ()) if n not in written)
    fixed_logic = fixed_logic_role(
        in_scenario(role.properties.get("AssumeRolePolicyDocument"), scenario), ctx.template,
        scenario)
    for source in sources:
        if not exists_in(source.resource, scenario):
            continue
        document = in_scenario(source.document, scenario)
        for _, statement in located_statements(document, ()):
            effect = effect_of(statement)
            if effect == "Deny":
                return
            if effect == "Allow":
                written.extend(n for n in _stores_written(ctx, statement, scenario, stores,
                                                         fixed_logic)
                               if n not in written)
    if written:
        names = ", ".join(f"`{n}`" for n in written)
        yield Violation(f"Role `{role.logical_id}` can write to or delete {names} but has no "
                        "explicit `Deny` guardrail", role.path)


@rule(code="IAM003", name="iam-explicit-deny-guardrail", severity=Severity.ERROR,
      category="iam-explicit-deny", resource_types=("AWS::IAM::Role",), security=True)
def explicit_deny_guardrail(ctx: Context) -> Iterator[Violation]:
    """Role that writes to the stack's data stores has no explicit Deny guardrail.

    ## What it does
    For every role, collects its inline `Policies` and the `AWS::IAM::Policy`,
    `ManagedPolicy` and `RolePolicy` resources attached to it through the graph (`Roles`,
    `RoleName`, `ManagedPolicyArns`). When the role writes a bucket, DynamoDB table or
    Kinesis stream of the stack (named through `Ref`/`GetAtt`/`Sub`, or reached through `*`)
    broadly, at least one statement of those policies must have `Effect: Deny`. Broadly
    means through store-level actions that destroy or reconfigure a store
    (`s3:DeleteBucket`, `s3:PutBucketPolicy`, `s3:Put*Configuration`,
    `s3:DeleteObjectVersion`, `dynamodb:DeleteTable`, `dynamodb:Update*`,
    `kinesis:DeleteStream`, ...), by name or through a wildcard (`s3:*`, `s3:Put*`, `*`,
    `NotAction`), or through an AWS-managed full-access policy (`AmazonS3FullAccess`,
    `AmazonDynamoDBFullAccess`, `AdministratorAccess`, ...). Wildcards are expanded against
    a table of known s3, dynamodb, kinesis, sqs, sns, kms and logs actions: `s3:*Object` or
    `kinesis:PutRecord*` writes objects and records only. A least-privilege list of object or
    item writes (`s3:PutObject`, `dynamodb:PutItem` on its own target) is not reported: a
    Deny would only restate what is not granted (the fix there is narrowing the Allow, and a
    `Resource: "*"` is IAM002's finding). A role that only a fixed-logic service assumes
    (S3 Files, QLDB streams, Firehose, S3 replication, DataSync, Backup, DMS) does what the
    service does: its exact actions on its own stores are not reported, a wildcard action or
    resource still is. Every condition scenario is checked.

    ## Why is this bad?
    Allow statements grow over time; a Deny states what must never happen whatever is added
    later: uploads without KMS encryption, deletion of object versions or of the table or
    bucket itself, writes outside TLS. Pipelines handling financial data are expected to
    carry such guardrails.

    ## Example
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
      WriterRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
          Policies:
            - PolicyName: write
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: s3:*
                    Resource: [!GetAtt Raw.Arn, !Sub "${Raw.Arn}/*"]
    ```

    ## Use instead
    ```yaml
    Resources:
      Raw:
        Type: AWS::S3::Bucket
      WriterRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
          Policies:
            - PolicyName: write
              PolicyDocument:
                Statement:
                  - Effect: Allow
                    Action: s3:*
                    Resource: [!GetAtt Raw.Arn, !Sub "${Raw.Arn}/*"]
                  - Effect: Deny
                    Action: [s3:DeleteObjectVersion, s3:DeleteBucket]
                    Resource: [!GetAtt Raw.Arn, !Sub "${Raw.Arn}/*"]
    ```

    Granting only `s3:PutObject` on `${Raw.Arn}/*` satisfies the rule too: a least-privilege
    Allow leaves nothing for a Deny to add.

    ## Known problems
    Any Deny statement satisfies the rule; its content is not judged. An IAM Deny protects
    against this role only: bucket-wide protection belongs in the bucket policy (BKT001).

    ## References
    - [Policy evaluation logic: explicit deny](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
    - [Preventing data deletion in S3](https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html)
    """
    stores: dict[str, list[str]] = {}
    for store in ctx.template.of_type(*DATA_STORE_TYPES):
        stores.setdefault(DATA_STORE_TYPES[store.type], []).append(store.logical_id)
    for role in ctx.resources():
        if not stores:
            continue
        sources = role_policy_documents(ctx, role)
        related = [s.resource for s in sources if s.resource is not role]
        yield from ctx.each_scenario(role, related, lambda s, r=role, src=sources:
                                   _explicit_deny(ctx, r, src, stores, s))
