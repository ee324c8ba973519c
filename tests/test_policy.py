"""Policy statement analysis: rendering, action matching, principals, conditions, lookups."""

from __future__ import annotations

import itertools
import re

import pytest
from helpers import template_from

from cfnaudit.graph import ResourceGraph
from cfnaudit.intrinsics import NO_VALUE, Scenarios
from cfnaudit.policy import (
    SAME_ACCOUNT,
    Principal,
    action_matches,
    actions_of,
    allows_action,
    bucket_arns,
    bucket_policies,
    classify_principal,
    condition_values,
    conditions_of,
    effect_of,
    in_scenario,
    located_statements,
    pattern_matches,
    principals_of,
    referenced_resources,
    render,
    resources_of,
    role_policy_documents,
    shown,
    statements,
    write_actions_allowed,
)
from cfnaudit.rule import Context, Rule, Severity

TEMPLATE = template_from("""
    Parameters:
      Consumer: {Type: String, Default: "111122223333"}
      Unknown: {Type: String}
      Names: {Type: CommaDelimitedList, Default: "a,b"}
    Resources:
      Data:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub data-${AWS::AccountId}
      Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: {}
""")


# ------------------------------------------------------------------------------ rendering


@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"),
    ({"Ref": "AWS::AccountId"}, "${AWS::AccountId}"),
    ({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
     "arn:aws:iam::${AWS::AccountId}:root"),
    ({"Fn::Sub": "arn:aws:iam::${Consumer}:root"}, "arn:aws:iam::111122223333:root"),
    ({"Ref": "Unknown"}, "${Unknown}"),
    ({"Fn::GetAtt": ["Data", "Arn"]}, "${Data.Arn}"),
    ({"Fn::GetAtt": "Data.Arn"}, "${Data.Arn}"),
    ({"Fn::Sub": "${Data.Arn}/*"}, "${Data.Arn}/*"),
    ({"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Data"}, "/*"]]}, "arn:aws:s3:::${Data}/*"),
    ({"Fn::Sub": ["arn:aws:s3:::${B}/*", {"B": {"Ref": "Data"}}]}, "arn:aws:s3:::${Data}/*"),
    ({"Fn::Sub": "${!aws:username}"}, "${aws:username}"),
    ({"Ref": "Names"}, "a,b"),
    ({"Fn::ImportValue": "Shared"}, "${Import:Shared}"),
    ({"Fn::Base64": "x"}, "${Fn::Base64}"),
    ({"Fn::FindInMap": ["Elb", {"Ref": "AWS::Region"}, "Account"]}, "${Fn::FindInMap over Elb}"),
    ({"Fn::Select": [0, {"Ref": "Unknown"}]}, "${Unknown}"),
])
def test_render_keeps_unknowns_as_tokens(value: object, text: str) -> None:
    assert render(value, TEMPLATE) == text


@pytest.mark.parametrize(("text", "message"), [
    ("arn:aws:iam::111122223333:root", "`arn:aws:iam::111122223333:root`"),
    ("${Consumer}", "`${Consumer}`"),
    ("${Fn::FindInMap over ElbAccounts}", "the account from `Fn::FindInMap` over `ElbAccounts`"),
    ("arn:aws:iam::${Fn::Select}:root", "`arn:aws:iam::<account from Fn::Select>:root`"),
    ("${?}", "an account that cannot be read before deployment"),
])
def test_shown_describes_values_known_only_through_a_function(text: str, message: str) -> None:
    assert shown(text, "account") == message


def test_render_picks_the_if_branch_of_the_scenario() -> None:
    value = {"Fn::If": ["IsProd", "a", "b"]}
    assert render(value, TEMPLATE, (("IsProd", True),)) == "a"
    assert render(value, TEMPLATE, (("IsProd", False),)) == "b"
    assert render(value, TEMPLATE) == "${?}"


def test_referenced_resources_are_stack_resources_only() -> None:
    assert referenced_resources("${Data.Arn}/* ${Unknown} ${AWS::Region} ${Role}",
                                TEMPLATE) == ["Data", "Role"]


# ------------------------------------------------------------------------------- matching


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("s3:PutObject", "s3:PutObject", True),
    ("S3:putobject", "s3:PutObject", True),
    ("s3:Put*", "s3:PutObject", True),
    ("s3:*", "s3:PutObject", True),
    ("*", "kinesis:PutRecord", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:PutObjec?", "s3:PutObject", True),
    ("kms:*", "kms:GenerateDataKey*", True),
    ("kms:GenerateDataKey*", "kms:GenerateDataKey*", True),
    ("kms:GenerateDataKey", "kms:GenerateDataKey*", False),
    ("dynamodb:PutItem", "dynamodb:PutItems", False),
])
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_pattern_matches_is_case_sensitive() -> None:
    assert pattern_matches("arn:aws:s3:::data/*", "arn:aws:s3:::data/*")
    assert pattern_matches("arn:aws:s3:::*", "arn:aws:s3:::data/*")
    assert not pattern_matches("arn:aws:s3:::Data/*", "arn:aws:s3:::data/*")
    assert not pattern_matches("arn:aws:s3:::data/logs/*", "arn:aws:s3:::data/*")


def _regex_glob(pattern: str, text: str) -> bool:
    """The obvious (exponential) translation, as a reference on short inputs."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(body, text, re.DOTALL) is not None


def test_glob_agrees_with_a_regex_on_every_short_pattern() -> None:
    texts = ["".join(t) for n in range(6) for t in itertools.product("ab", repeat=n)]
    patterns = ["".join(p) for n in range(5) for p in itertools.product("ab*?", repeat=n)]
    for pattern in patterns:
        for text in texts:
            assert pattern_matches(pattern, text) is _regex_glob(pattern, text), (pattern, text)


@pytest.mark.parametrize(("pattern", "text", "expected"), [
    ("a?*b*?c", "axbyc", True),
    ("a?*b*?c", "abc", False),
    ("ab*ba", "aba", False),  # first and last piece may not overlap
    ("*", "", True),
    ("?", "", False),
    ("**a**", "xax", True),
    ("line\n*", "line\nnext", True),  # `*` spans any character
])
def test_glob_edge_cases(pattern: str, text: str, expected: bool) -> None:
    assert pattern_matches(pattern, text) is expected


def test_wildcard_heavy_patterns_are_answered() -> None:
    """Patterns that made the regex translation backtrack exponentially (28 stars: minutes).
    Correctness only: bench/ shows the time."""
    many_stars = "s3:" + "*x" * 40
    assert not action_matches(many_stars, "s3:" + "x" * 39 + "y" * 200)
    assert action_matches(many_stars, "s3:" + "x" * 40)
    arn = "arn:aws:s3:::" + "*a" * 28
    assert not pattern_matches(arn, "arn:aws:s3:::" + "a" * 27 + "b" * 500)
    assert pattern_matches(arn, "arn:aws:s3:::" + "ba" * 28)
    assert not pattern_matches("*a?" * 5000, "a" * 9999)
    assert pattern_matches("*a?" * 5000, "ab" * 5000)


def test_not_action_allows_everything_else() -> None:
    statement = {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}
    assert allows_action(statement, "s3:PutObject")
    assert not allows_action(statement, "iam:CreateUser")
    assert actions_of(statement) == ()


def test_write_actions_allowed() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject"], "Resource": "*"}
    assert write_actions_allowed(statement, "s3") == ("s3:PutObject",)
    assert write_actions_allowed({"Action": "dynamodb:Get*"}, "dynamodb") == ()
    assert "kinesis:PutRecords" in write_actions_allowed({"Action": "kinesis:*"}, "kinesis")


# ----------------------------------------------------------------------------- statements


def test_statement_may_be_one_mapping_or_a_list() -> None:
    one = {"Statement": {"Effect": "Deny", "Action": "s3:*"}}
    many = {"Statement": [{"Effect": "allow"}, "junk", {"Effect": "Deny"}]}
    assert statements(one) == [one["Statement"]]
    assert [effect_of(s) for s in statements(many)] == ["Allow", "Deny"]
    assert [p for p, _ in located_statements(many, ("R",))] == [("R", "Statement", 0),
                                                                 ("R", "Statement", 2)]
    assert located_statements(one, ("R",))[0][0] == ("R", "Statement")
    assert statements(None) == []
    assert statements({"Fn::If": ["C", {}, {}]}) == []


def test_resources_are_rendered() -> None:
    statement = {"Resource": [{"Fn::GetAtt": "Data.Arn"}, {"Fn::Sub": "${Data.Arn}/*"}]}
    assert resources_of(statement, TEMPLATE) == ("${Data.Arn}", "${Data.Arn}/*")
    assert resources_of({"NotResource": "*"}) == ()


def test_bucket_arns_include_the_literal_name() -> None:
    bucket = TEMPLATE.resources["Data"]
    arns, objects = bucket_arns(bucket, TEMPLATE)
    assert arns == ("${Data.Arn}", "arn:aws:s3:::${Data}",
                    "arn:aws:s3:::data-${AWS::AccountId}")
    assert objects == tuple(a + "/*" for a in arns)


# ----------------------------------------------------------------------------- principals


def test_principal_forms() -> None:
    statement = {"Principal": {
        "AWS": ["123456789012", {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"},
                {"Ref": "AWS::AccountId"}, {"Fn::GetAtt": ["Role", "Arn"]},
                {"Fn::Sub": "arn:aws:iam::${Consumer}:role/reader"}, {"Ref": "Unknown"}, "*"],
        "Service": "logs.amazonaws.com"}}
    found = principals_of(statement, TEMPLATE)
    assert [p.account for p in found] == ["123456789012", SAME_ACCOUNT, SAME_ACCOUNT,
                                          SAME_ACCOUNT, "111122223333", "${Unknown}", "*",
                                          None]
    assert [p.is_other_account() for p in found] == [True, False, False, False, True, True,
                                                     True, False]
    assert not found[0].is_other_account(stack_account="123456789012")
    assert found[-1].kind == "Service"
    assert found[6].is_everyone


@pytest.mark.parametrize(("kind", "text", "category", "account"), [
    ("AWS", "*", "everyone", "*"),
    ("AWS", "111122223333", "account", "111122223333"),
    ("AWS", "arn:aws:iam::111122223333:root", "account", "111122223333"),
    ("AWS", "arn:aws:iam::111122223333:role/reader", "identity", "111122223333"),
    ("AWS", "arn:aws:sts::111122223333:assumed-role/r/s", "identity", "111122223333"),
    ("AWS", "arn:aws:iam::${AWS::AccountId}:role/x", "identity", SAME_ACCOUNT),
    ("AWS", "${Reader.Arn}", "identity", SAME_ACCOUNT),
    ("AWS", "${Consumer}", "account", "${Consumer}"),
    ("AWS", "${Fn::FindInMap over ElbAccounts}", "account", "${Fn::FindInMap over ElbAccounts}"),
    ("AWS", "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL",
     "cloudfront-oai", None),
    ("AWS", "arn:aws:iam::cloudfront:user/someone", "unknown", None),
    ("AWS", "not an arn", "unknown", None),
    ("Service", "logs.amazonaws.com", "service", None),
    ("Federated", "cognito-identity.amazonaws.com", "federated", None),
    ("CanonicalUser", "${Oai.S3CanonicalUserId}", "canonical-user", None),
])
def test_principals_are_classified_in_one_place(kind: str, text: str, category: str,
                                                account: str | None) -> None:
    assert classify_principal(kind, text) == (category, account)
    principal = Principal(kind, text)
    assert (principal.category, principal.account) == (category, account)
    assert principal.is_other_account() == (account not in (None, SAME_ACCOUNT))


def test_list_valued_resources_are_split() -> None:
    template = template_from("""
        Parameters:
          Arns: {Type: CommaDelimitedList, Default: "arn:aws:s3:::a/*, arn:aws:s3:::b/*"}
          Accounts: {Type: "List<String>", Default: "111111111111,222222222222"}
        Resources:
          Topic: {Type: AWS::SNS::Topic}
    """)
    statement = {"Resource": {"Ref": "Arns"},
                 "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "Accounts"}}}}
    assert resources_of(statement, template) == ("arn:aws:s3:::a/*", "arn:aws:s3:::b/*")
    assert condition_values(statement, "aws:SourceAccount", template=template) == (
        "111111111111", "222222222222")


def test_list_valued_principals_are_split() -> None:
    template = template_from("""
        Parameters:
          Peers: {Type: String, Default: "111111111111,222222222222"}
          NoDefault: {Type: String}
        Resources:
          Topic: {Type: AWS::SNS::Topic}
    """)
    statement = {"Principal": {"AWS": {"Fn::Split": [",", {"Ref": "Peers"}]}}}
    assert [p.account for p in principals_of(statement, template)] == ["111111111111",
                                                                       "222222222222"]
    unknown = {"Principal": {"AWS": {"Fn::Split": [",", {"Ref": "NoDefault"}]}}}
    (principal,) = principals_of(unknown, template)
    assert principal.text == "${NoDefault}" and principal.is_other_account()


def test_bare_star_principal() -> None:
    (principal,) = principals_of({"Principal": "*"})
    assert principal == Principal("*", "*", "*")
    assert principal.is_everyone and principal.is_other_account()
    assert principals_of({"Effect": "Allow"}) == ()
    assert principals_of({"NotPrincipal": {"AWS": "1"}}, key="NotPrincipal")[0].text == "1"


# ----------------------------------------------------------------------------- conditions


def test_condition_keys_are_case_insensitive_and_operators_are_filtered() -> None:
    statement = {"Condition": {
        "StringEqualsIfExists": {"KMS:ViaService": "s3.${AWS::Region}.amazonaws.com"},
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/*", "o-2/*"]},
        "Bool": {"aws:SecureTransport": False},
    }}
    assert condition_values(statement, "kms:viaservice") == ("s3.${AWS::Region}.amazonaws.com",)
    assert condition_values(statement, "kms:ViaService", ["StringEquals"]) is None
    assert condition_values(statement, "aws:SecureTransport", ["bool"]) == ("false",)
    assert condition_values(statement, "aws:PrincipalOrgPaths") == ("o-1/*", "o-2/*")
    bases = {c.key: (c.base, c.if_exists) for c in conditions_of(statement)}
    assert bases == {"KMS:ViaService": ("StringEquals", True),
                     "aws:PrincipalOrgPaths": ("StringLike", False),
                     "aws:SecureTransport": ("Bool", False)}
    assert condition_values({"Condition": "junk"}, "x") is None


# ------------------------------------------------------------------------------ scenarios




# ----------------------------------------------------------------------- graph lookups


def _context(text: str) -> Context:
    template = template_from(text)
    meta = Rule(code="TST001", name="t", severity=Severity.INFO, category="kms-key-policy",
                docs="", check=None)
    return Context(template, ResourceGraph(template), {}, meta, Scenarios(template))


def test_bucket_policies_by_ref_and_by_literal_name_never_another_bucket() -> None:
    ctx = _context("""
        Parameters:
          Name: {Type: String, Default: bucket-c}
        Resources:
          A: {Type: AWS::S3::Bucket, Properties: {BucketName: bucket-a}}
          B: {Type: AWS::S3::Bucket}
          C: {Type: AWS::S3::Bucket, Properties: {BucketName: !Ref Name}}
          PolicyA:
            Type: AWS::S3::BucketPolicy
            Properties: {Bucket: bucket-a, PolicyDocument: {Statement: []}}
          PolicyB:
            Type: AWS::S3::BucketPolicy
            Properties: {Bucket: !Ref B, PolicyDocument: {Statement: []}}
          PolicyC:
            Type: AWS::S3::BucketPolicy
            Properties: {Bucket: bucket-c, PolicyDocument: {Statement: []}}
    """)
    found = {lid: [p.logical_id for p in bucket_policies(ctx, ctx.template.resources[lid])]
             for lid in ("A", "B", "C")}
    assert found == {"A": ["PolicyA"], "B": ["PolicyB"], "C": ["PolicyC"]}
    assert {"PolicyA", "PolicyB", "PolicyC"} <= ctx.examined


def test_role_policy_documents_inline_attached_and_managed() -> None:
    ctx = _context("""
        Conditions:
          IsProd: !Equals [!Ref AWS::Region, eu-west-1]
        Resources:
          Role:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument: {Statement: []}
              ManagedPolicyArns: [!Ref Managed, arn:aws:iam::aws:policy/ReadOnlyAccess]
              Policies:
                - PolicyName: inline
                  PolicyDocument: {Statement: [{Effect: Allow, Action: s3:GetObject}]}
                - !If [IsProd, {PolicyName: p, PolicyDocument: {Statement: []}},
                       !Ref AWS::NoValue]
          Other:
            Type: AWS::IAM::Role
            Properties: {AssumeRolePolicyDocument: {Statement: []}}
          Attached:
            Type: AWS::IAM::Policy
            Properties:
              PolicyName: a
              Roles: [!Ref Role]
              PolicyDocument: {Statement: []}
          ForOther:
            Type: AWS::IAM::Policy
            Properties:
              PolicyName: o
              Roles: [!Ref Other]
              PolicyDocument: {Statement: []}
          Managed:
            Type: AWS::IAM::ManagedPolicy
            Properties: {PolicyDocument: {Statement: []}}
          RolePolicy:
            Type: AWS::IAM::RolePolicy
            Properties: {RoleName: !Ref Role, PolicyName: r, PolicyDocument: {Statement: []}}
    """)
    sources = role_policy_documents(ctx, ctx.template.resources["Role"])
    assert [(s.resource.logical_id, s.path[-3:]) for s in sources] == [
        ("Role", ("Policies", 0, "PolicyDocument")),
        ("Role", ("Policies", 1, "PolicyDocument")),
        ("Attached", ("Attached", "Properties", "PolicyDocument")),
        ("RolePolicy", ("RolePolicy", "Properties", "PolicyDocument")),
        ("Managed", ("Managed", "Properties", "PolicyDocument")),
    ]
    conditional = sources[1].document
    assert in_scenario(conditional, (("IsProd", True),)) == {"Statement": []}
    assert in_scenario(conditional, (("IsProd", False),)) is NO_VALUE
