"""Cross-account access: role trust and resource policies (codes XAC001-XAC003).

A principal is in another account when it is `*`, a literal account id or ARN other than the
stack's (`${AWS::AccountId}`; the `stack_account_id` option names the deployment account), or
an account that comes from a parameter or an import. Service principals never are.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cfnaudit.rule import (
    SAME_ACCOUNT,
    Context,
    Principal,
    Resource,
    Scenario,
    Severity,
    Variant,
    Violation,
    actions_of,
    allows_action,
    bucket_policies,
    condition_values,
    conditions_of,
    effect_of,
    exists_in,
    in_scenario,
    located_statements,
    principals_of,
    resources_of,
    role_policy_documents,
    rule,
    shown,
    statements,
    write_actions_allowed,
)

Path = tuple[str | int, ...]
# Condition keys that pin the calling account; `*` limited by them to the stack's own account
# is not a cross-account grant (the delegate-to-access-points pattern, for example).
ACCOUNT_KEYS = ("aws:PrincipalAccount", "aws:SourceAccount", "s3:DataAccessPointAccount",
                "kms:CallerAccount")


def outside_principals(ctx: Context, statement: Mapping[str, Any], scenario: Scenario
                       ) -> list[Principal]:
    """The statement's principals that may be in another account."""
    stack_account = str(ctx.option("stack_account_id"))
    own = {SAME_ACCOUNT, stack_account} - {""}
    pinned = [c for c in conditions_of(statement, ctx.template, scenario)
              if c.base in ("StringEquals", "StringLike") and not c.if_exists
              and any(c.key_is(k) for k in ACCOUNT_KEYS)]
    own_only = bool(pinned) and all(set(c.values) <= own for c in pinned)
    return [p for p in principals_of(statement, ctx.template, scenario)
            if p.is_other_account(stack_account) and not (p.is_everyone and own_only)]

# ---------------------------------------------------------------------- XAC001 external id

PEERING_ACCEPT = "ec2:acceptvpcpeeringconnection"
PEERING = "AWS::EC2::VPCPeeringConnection"


def is_peering_accepter(ctx: Context, role: Resource) -> bool:
    """The role only exists to accept VPC peering requests: a peering connection of the stack
    names it as `PeerRoleArn`, or every action it is allowed is
    `ec2:AcceptVpcPeeringConnection` (or an `ec2:Describe*` read). EC2 assumes it for the
    requester account, and `PeerRoleArn` has no way to pass an external id."""
    if ctx.referring_resources(role, types=(PEERING,), under=("Properties", "PeerRoleArn")):
        return True
    managed = role.properties.get("ManagedPolicyArns")
    in_stack = ctx.targets_at(role, "Properties", "ManagedPolicyArns")
    if managed and (not isinstance(managed, list) or len(in_stack) < len(managed)):
        return False  # a managed policy of another stack or of AWS: permissions unknown
    allowed: list[str] = []
    for source in role_policy_documents(ctx, role):
        for statement in statements(source.document):
            if effect_of(statement) != "Allow":
                continue
            if "NotAction" in statement:
                return False
            allowed.extend(a.lower() for a in actions_of(statement))
    return PEERING_ACCEPT in allowed and all(
        a == PEERING_ACCEPT or a.startswith("ec2:describe") for a in allowed)


def _trust_violations(ctx: Context, role: Resource, v: Variant) -> Iterator[Violation]:
    base = role.at("Properties", "AssumeRolePolicyDocument")
    document = v.properties.get("AssumeRolePolicyDocument")
    for path, statement in located_statements(document, base):
        if effect_of(statement) != "Allow" or not allows_action(statement, "sts:AssumeRole"):
            continue
        outsiders = outside_principals(ctx, statement, v.scenario)
        if not outsiders:
            continue
        who = ", ".join(p.shown for p in outsiders)
        if condition_values(statement, "sts:ExternalId", ("StringEquals",), ctx.template):
            continue
        elsewhere = [c.operator for c in conditions_of(statement) if c.key_is("sts:ExternalId")]
        if elsewhere:
            yield Violation(f"Role `{role.logical_id}` trusts {who} with `sts:ExternalId` "
                            f"under `{elsewhere[0]}` instead of `StringEquals`", path)
        else:
            yield Violation(f"Role `{role.logical_id}` trusts {who} in another account "
                            "without an `sts:ExternalId` condition", path)


@rule(code="XAC001", name="xacct-trust-external-id", severity=Severity.ERROR,
      category="xacct-external-id", resource_types=("AWS::IAM::Role",),
      options={"stack_account_id": ""}, security=True)
def trust_external_id(ctx: Context) -> Iterator[Violation]:
    """Role can be assumed from another account without an ExternalId.

    ## What it does
    Checks every statement of every role's `AssumeRolePolicyDocument` (not only the first)
    that allows `sts:AssumeRole` to a principal in another account: a literal account id or
    ARN, an account from a parameter (`!Sub arn:aws:iam::${ConsumerAccount}:root`, with or
    without a default), `*`, or any of these chosen by `Fn::If`. Each such statement must
    require `sts:ExternalId` under `StringEquals`; `StringEqualsIfExists` and other operators
    are reported because they let callers without an external id through. Every condition
    scenario is checked.

    A VPC-peering accepter role is exempt: one that a peering connection of the stack names
    as `PeerRoleArn`, or whose only permission is `ec2:AcceptVpcPeeringConnection` (with
    `ec2:Describe*` reads). EC2 assumes it for the requester, and a peering connection cannot
    pass an external id, so requiring one would break the peering.

    ## Why is this bad?
    Without an external id, any party that learns the role ARN and can act as the trusted
    account (for example a third-party service acting for many customers) can assume the
    role: the "confused deputy" problem.

    ## Example
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
    Resources:
      ConsumerRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: sts:AssumeRole
    ```

    ## Use instead
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
      ExternalId: {Type: String, NoEcho: true, Default: "f3a1c0de-example"}
    Resources:
      ConsumerRole:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: sts:AssumeRole
                Condition: {StringEquals: {sts:ExternalId: !Ref ExternalId}}
    ```

    ## Options
    - `stack_account_id` (default empty): the deployment account; literal principals in it
      are not cross-account.

    ## References
    - [How to use an external ID when granting access to a third party](https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html)
    - [The confused deputy problem](https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html)
    """
    for role in ctx.resources():
        if is_peering_accepter(ctx, role):
            continue
        yield from ctx.each_variant(role, lambda v, r=role: _trust_violations(ctx, r, v))


# ---------------------------------------------------------------- bucket policy statements


def _cross_account_grants(ctx: Context, document: Any, base: Path, scenario: Scenario
                          ) -> Iterator[tuple[Path, Mapping[str, Any], list[Principal]]]:
    for path, statement in located_statements(document, base):
        if effect_of(statement) != "Allow":
            continue
        outsiders = outside_principals(ctx, statement, scenario)
        if outsiders:
            yield path, statement, outsiders


# ------------------------------------------------------------------ XAC002 key consistency

KEY_TYPES = ("AWS::KMS::Key",)


def _bucket_key(ctx: Context, bucket: Resource) -> Resource | None:
    """The stack's KMS key the bucket encrypts with by default (directly or via an alias)."""
    targets = ctx.targets_at(bucket, "Properties", "BucketEncryption",
                             types=("AWS::KMS::Key", "AWS::KMS::Alias"))
    for target in targets:
        if target.type == "AWS::KMS::Key":
            return target
        keys = ctx.targets_at(target, "Properties", "TargetKeyId", types=KEY_TYPES)
        if keys:
            return keys[0]
    return None


def _key_grant(ctx: Context, key_statements: list[Mapping[str, Any]], account: str,
               scenario: Scenario) -> str:
    """"via-s3", "direct" or "" for the key policy's kms:Decrypt grant to `account`."""
    best = ""
    for statement in key_statements:
        if effect_of(statement) != "Allow" or not allows_action(statement, "kms:Decrypt"):
            continue
        principals = principals_of(statement, ctx.template, scenario)
        callers = condition_values(statement, "kms:CallerAccount", template=ctx.template) or ()
        if not any(p.account == account or (p.is_everyone and account in callers)
                   for p in principals):
            continue
        via = condition_values(statement, "kms:ViaService", template=ctx.template) or ()
        if any(v.lower().startswith("s3.") for v in via):
            return "via-s3"
        best = "direct"
    return best


def _key_consistency(ctx: Context, bucket: Resource, key: Resource, policies: list[Resource],
                     scenario: Scenario) -> Iterator[Violation]:
    key_document = in_scenario(key.properties.get("KeyPolicy"), scenario)
    key_statements = [s for _, s in located_statements(key_document, ())]
    for policy in policies:
        if not exists_in(policy, scenario):
            continue
        document = in_scenario(policy.properties.get("PolicyDocument"), scenario)
        base = policy.at("Properties", "PolicyDocument")
        for path, statement, outsiders in _cross_account_grants(ctx, document, base, scenario):
            if not allows_action(statement, "s3:GetObject"):
                continue
            for principal in outsiders:
                account = principal.account or ""
                if account == "*":
                    continue  # public read is the business of BKT005, not a key grant
                grant = _key_grant(ctx, key_statements, account, scenario)
                if grant == "via-s3":
                    continue
                detail = ("grants it `kms:Decrypt` without a `kms:ViaService` condition "
                          "limiting use to S3" if grant == "direct"
                          else "does not grant it `kms:Decrypt`")
                reader = shown(account, "account")
                reader = f"account {reader}" if reader.startswith("`") else reader
                yield Violation(f"Bucket `{bucket.logical_id}` lets {reader} read "
                                f"objects encrypted with key `{key.logical_id}`, whose policy "
                                f"{detail}", path, key=account)


@rule(code="XAC002", name="xacct-bucket-key-grant", severity=Severity.ERROR,
      category="xacct-resource-policy", resource_types=("AWS::S3::Bucket",),
      options={"stack_account_id": ""}, security=True)
def bucket_key_grant(ctx: Context) -> Iterator[Violation]:
    """Bucket policy shares objects with another account that cannot decrypt them.

    ## What it does
    For every bucket encrypted by default with a KMS key of the stack (`KMSMasterKeyID`
    referring to the key or to its alias), reads the bucket's policy (found through the
    graph or by literal name). For each `Allow` statement granting `s3:GetObject` (or a
    wildcard covering it) to a principal in another account, checks that the key policy has
    an `Allow` statement for the same account (its ARN or id, or `*` restricted with
    `kms:CallerAccount`) covering `kms:Decrypt` with a `kms:ViaService` condition naming S3
    (`s3.<region>.amazonaws.com`). Every condition scenario is checked.

    ## Why is this bad?
    Without the key grant the consumer receives `AccessDenied` on every object although the
    bucket policy allows the read: the sharing is broken. A grant without `kms:ViaService`
    works but lets the consumer use the key directly, outside S3.

    ## Example
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: aws:kms
                  KMSMasterKeyID: !GetAtt DataKey.Arn
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: s3:GetObject
                Resource: !Sub "${Curated.Arn}/*"
    ```

    ## Use instead
    ```yaml
    Parameters:
      ConsumerAccount: {Type: String, Default: "111122223333"}
    Resources:
      DataKey:
        Type: AWS::KMS::Key
        Properties:
          EnableKeyRotation: true
          KeyPolicy:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${AWS::AccountId}:root"}
                Action: kms:*
                Resource: "*"
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: [kms:Decrypt, kms:DescribeKey]
                Resource: "*"
                Condition:
                  StringEquals: {kms:ViaService: !Sub "s3.${AWS::Region}.amazonaws.com"}
      Curated:
        Type: AWS::S3::Bucket
        Properties:
          BucketEncryption:
            ServerSideEncryptionConfiguration:
              - ServerSideEncryptionByDefault:
                  SSEAlgorithm: aws:kms
                  KMSMasterKeyID: !GetAtt DataKey.Arn
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: !Sub "arn:aws:iam::${ConsumerAccount}:root"}
                Action: s3:GetObject
                Resource: !Sub "${Curated.Arn}/*"
    ```

    ## Options
    - `stack_account_id` (default empty): the deployment account.

    ## Known problems
    Accounts are compared as written: a role ARN in the bucket policy matches a key grant to
    the same account's root or to another role of that account.

    ## References
    - [Cross-account access to SSE-KMS encrypted objects](https://repost.aws/knowledge-center/cross-account-access-denied-error-s3)
    - [kms:ViaService](https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)
    """
    for bucket in ctx.resources():
        key = _bucket_key(ctx, bucket)
        if key is None:
            continue
        policies = bucket_policies(ctx, bucket)
        if policies:
            yield from ctx.each_scenario(bucket, [key, *policies],
                                       lambda s, b=bucket, k=key, p=policies:
                                       _key_consistency(ctx, b, k, p, s))


# --------------------------------------------------------------------- XAC003 write grants

_LOG_DELIVERY = "/AWSLogs/"  # the prefix AWS log delivery (ELB, CloudTrail, ...) writes to


def _write_grants(ctx: Context, policy: Resource, v: Variant) -> Iterator[Violation]:
    document = v.properties.get("PolicyDocument")
    base = policy.at("Properties", "PolicyDocument")
    for path, statement, outsiders in _cross_account_grants(ctx, document, base, v.scenario):
        writes = write_actions_allowed(statement, "s3")
        resources = resources_of(statement, ctx.template, v.scenario)
        if not writes or (resources and all(_LOG_DELIVERY in r for r in resources)):
            continue
        who = ", ".join(p.shown for p in outsiders)
        shown = ", ".join(f"`{a}`" for a in writes[:3]) + (
            f" and {len(writes) - 3} more" if len(writes) > 3 else "")
        yield Violation(f"Bucket policy `{policy.logical_id}` lets {who} in another account "
                        f"write or delete ({shown})", path)


@rule(code="XAC003", name="xacct-bucket-write-grant", severity=Severity.ERROR,
      category="xacct-resource-policy", resource_types=("AWS::S3::BucketPolicy",),
      options={"stack_account_id": "", "allow_write": False}, security=True)
def bucket_write_grant(ctx: Context) -> Iterator[Violation]:
    """Bucket policy lets another account write or delete objects.

    ## What it does
    Reports `Allow` statements of bucket policies whose principal is in another account
    (literal id or ARN, parameter, import, `*`) and whose actions cover a write or delete
    action: `s3:PutObject`, `s3:DeleteObject`, `s3:DeleteObjectVersion`, ACL and bucket
    configuration writes, `s3:DeleteBucket`; `s3:*` and `s3:Put*` included. Service
    principals are not accounts and are not reported. Every condition scenario is checked.

    ## Why is this bad?
    Data consumers need read access. A write grant lets another account overwrite or delete
    the source of truth, upload objects the pipeline then trusts, or change the bucket's own
    controls; with `*` anyone can.

    ## Example
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: arn:aws:iam::111122223333:root}
                Action: s3:*
                Resource: !Sub "${Curated.Arn}/*"
    ```

    ## Use instead
    ```yaml
    Resources:
      Curated:
        Type: AWS::S3::Bucket
      CuratedPolicy:
        Type: AWS::S3::BucketPolicy
        Properties:
          Bucket: !Ref Curated
          PolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {AWS: arn:aws:iam::111122223333:root}
                Action: s3:GetObject
                Resource: !Sub "${Curated.Arn}/*"
    ```

    ## Options
    - `allow_write` (default false): true disables the rule, for buckets that receive data
      from partner accounts by design.
    - `stack_account_id` (default empty): the deployment account.

    ## Known problems
    Statements whose resources all lie below an `/AWSLogs/` prefix are AWS log delivery
    (for example the regional Elastic Load Balancing account writing access logs) and are
    not reported. `*` limited by `aws:PrincipalAccount`, `aws:SourceAccount` or
    `s3:DataAccessPointAccount` to the stack's own account is not cross-account.

    ## References
    - [Bucket owner granting cross-account bucket permissions](https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-walkthroughs-managing-access-example2.html)
    """
    if ctx.option("allow_write") in (True, "true", "True", "1"):
        for policy in ctx.resources():
            ctx.examine(policy)
        return
    for policy in ctx.resources():
        yield from ctx.each_variant(policy, lambda v, p=policy: _write_grants(ctx, p, v))
