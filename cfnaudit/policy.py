"""IAM, bucket and key policy analysis shared by rules.

Policy documents are read as CloudFormation writes them: `Statement` may be one mapping or a
list, `Action`/`Resource`/`Principal` values may be strings or lists, and values are often
intrinsics (`!Sub arn:aws:iam::${AWS::AccountId}:root`, `!GetAtt Bucket.Arn`, `!Ref Param`).
Such values are *rendered* to symbolic text: parameters become their default or the user's value
(or `${Name}` when unknown), pseudo parameters and resource attributes stay as `${...}` tokens
(`${AWS::AccountId}`, `${Bucket}`, `${Bucket.Arn}`), `${AWS::Partition}` becomes `aws`. Text
compares and glob-matches like the literal ARNs IAM evaluates.

Everything here is pure and reads raw values; rules pick the condition scenario first
(`Context.joint_scenarios`, `in_scenario`) so that `Fn::If` is resolved and `AWS::NoValue`
gone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cfnaudit.intrinsics import (
    NO_CONDITIONS,
    NO_VALUE,
    Scenario,
    Unresolved,
    branch,
    resolve,
)

if TYPE_CHECKING:
    from cfnaudit.decode import Path
    from cfnaudit.rule import Context
    from cfnaudit.template import Resource, Template

__all__ = [
    "DATA_STORE_TYPES",
    "DATA_STORE_WRITE_ACTIONS",
    "SAME_ACCOUNT",
    "Condition",
    "PolicySource",
    "Principal",
    "action_matches",
    "actions_of",
    "allows_action",
    "bucket_arns",
    "bucket_name",
    "bucket_policies",
    "classify_principal",
    "condition_values",
    "conditions_of",
    "effect_of",
    "exists_in",
    "in_scenario",
    "located_statements",
    "not_actions_of",
    "pattern_matches",
    "principals_of",
    "referenced_resources",
    "render",
    "resources_of",
    "role_policy_documents",
    "shown",
    "statements",
    "write_actions_allowed",
]

SAME_ACCOUNT = "${AWS::AccountId}"

# Write and delete actions per data-store service (explicit-deny and cross-account rules).
DATA_STORE_WRITE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "s3": ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
           "s3:PutObjectVersionAcl", "s3:RestoreObject", "s3:DeleteBucket",
           "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl",
           "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
           "s3:PutEncryptionConfiguration"),
    "dynamodb": ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate",
                 "dynamodb:PartiQLDelete", "dynamodb:DeleteTable", "dynamodb:UpdateTable",
                 "dynamodb:RestoreTableFromBackup"),
    "kinesis": ("kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DeleteStream",
                "kinesis:MergeShards", "kinesis:SplitShard", "kinesis:UpdateShardCount",
                "kinesis:DecreaseStreamRetentionPeriod"),
    "firehose": ("firehose:PutRecord", "firehose:PutRecordBatch",
                 "firehose:DeleteDeliveryStream"),
    "sqs": ("sqs:SendMessage", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:DeleteQueue"),
    "sns": ("sns:Publish", "sns:DeleteTopic"),
}

# Resource types that hold data, with the IAM service prefix that writes them.
DATA_STORE_TYPES: Mapping[str, str] = {
    "AWS::S3::Bucket": "s3",
    "AWS::DynamoDB::Table": "dynamodb",
    "AWS::DynamoDB::GlobalTable": "dynamodb",
    "AWS::Kinesis::Stream": "kinesis",
}

# ----------------------------------------------------------------------------- rendering

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_TEXT = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}


def render(value: Any, template: Template | None = None,
           scenario: Scenario = NO_CONDITIONS) -> str:
    """Symbolic text for a policy value (see the module docs). Never fails: what cannot be
    known becomes a `${...}` token naming a parameter or the function, `${?}` for malformed
    values and `Fn::If` outside its scenario."""
    text = _render(value, template, scenario)
    return text.replace("arn:${AWS::Partition}:", "arn:aws:")


def _render(value: Any, template: Template | None, scenario: Scenario) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if not isinstance(value, dict) or len(value) != 1:
        return "${?}"
    (key, arg), = value.items()
    if key == "Ref" and isinstance(arg, str):
        return _render_name(arg, template, scenario)
    if key == "Fn::GetAtt":
        name = arg if isinstance(arg, str) else (
            ".".join(str(a) for a in arg) if isinstance(arg, list) else "?")
        return "${" + name + "}"
    if key == "Fn::Sub":
        return _render_sub(arg, template, scenario)
    if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
            and isinstance(arg[0], str) and isinstance(arg[1], list):
        return arg[0].join(_render(part, template, scenario) for part in arg[1])
    if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        outcome = dict(scenario).get(arg[0]) if isinstance(arg[0], str) else None
        if outcome is not None:
            return _render(arg[1] if outcome else arg[2], template, scenario)
        return "${?}"
    if template is not None:
        literal = resolve(value, template, scenario)
        if isinstance(literal, (str, int, float, bool)):
            return _render(literal, None, scenario)
    if key == "Fn::ImportValue":
        return "${Import:" + _render(arg, template, scenario) + "}"
    return _opaque(value, template)


def _opaque(value: Any, template: Template | None) -> str:
    """A token naming what an unresolvable intrinsic depends on: its first parameter
    (`${ConsumerAccounts}`), else the function (`${Fn::FindInMap}`)."""
    from cfnaudit.intrinsics import Reference, find_references

    for ref in find_references(value, ()):
        if isinstance(ref, Reference) and ref.kind == "Ref" and (
                template is None or ref.target in template.parameters
        ) and not ref.target.startswith("AWS::"):
            return "${" + ref.target + "}"
    (function, arg), = value.items()
    if function == "Fn::FindInMap" and isinstance(arg, list) and arg and isinstance(arg[0], str):
        return "${" + f"{function}{_OVER}{arg[0]}" + "}"
    return "${" + str(function) + "}"


_OVER = " over "  # `${Fn::FindInMap over ElbAccounts}`: the function and the mapping it reads
_FUNCTION_TOKEN = re.compile(r"\$\{(Fn::\w+)(?: over ([^}]*))?\}")


def shown(text: str, noun: str = "value") -> str:
    """Rendered text for a message. Plain text is quoted; a value known only through a
    function is described (`the account from `Fn::FindInMap` over `ElbAccounts``) instead of
    printed as the `${Fn::FindInMap}` token, alone or inside a longer text."""
    def describe(match: re.Match[str]) -> str:
        function, source = match.groups()
        return f"from `{function}`" + (f" over `{source}`" if source else "")

    whole = _FUNCTION_TOKEN.fullmatch(text)
    if whole:
        return f"the {noun} {describe(whole)}"
    if text == "${?}":
        article = "an" if noun[:1] in ("a", "e", "i", "o", "u") else "a"
        return f"{article} {noun} that cannot be read before deployment"
    inline = _FUNCTION_TOKEN.sub(lambda m: f"<{noun} {describe(m).replace('`', '')}>", text)
    return f"`{inline}`"


def _render_name(name: str, template: Template | None, scenario: Scenario) -> str:
    if name in _PSEUDO_TEXT:
        return _PSEUDO_TEXT[name]
    if template is not None and name in template.parameters:
        literal = resolve({"Ref": name}, template, scenario)
        if isinstance(literal, list):
            return ",".join(str(item) for item in literal)
        if not isinstance(literal, Unresolved) and literal is not NO_VALUE:
            return _render(literal, None, NO_CONDITIONS)
    return "${" + name + "}"


def _render_sub(arg: Any, template: Template | None, scenario: Scenario) -> str:
    local: Mapping[str, Any] = {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
            and isinstance(arg[1], dict):
        text, local = arg
    elif isinstance(arg, str):
        text = arg
    else:
        return "${?}"

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return _render(local[name], template, scenario)
        if "." in name:
            return "${" + name + "}"
        return _render_name(name, template, scenario)

    return _TOKEN.sub(substitute, text)


def referenced_resources(text: str, template: Template) -> list[str]:
    """Logical ids of stack resources named by `${X}` / `${X.Attr}` tokens in rendered text."""
    found = []
    for match in _TOKEN.finditer(text):
        name = match.group(1).split(".", 1)[0]
        if name in template.resources and name not in found:
            found.append(name)
    return found


# ------------------------------------------------------------------------------ matching


def _glob_match(pattern: str, text: str) -> bool:
    """`*` matches any run of characters, `?` one character; everything else is literal.

    The pattern is cut at its stars: the first piece must start the text, the last must end it,
    and each piece between is found leftmost after the previous one (leftmost is always a safe
    choice, so nothing is ever retried). Cost: one forward search through the text per piece,
    linear for pieces without `?`. A regex with `.*` per star backtracks exponentially in the
    number of stars instead (26 stars took seconds, 28 minutes)."""
    if "*" not in pattern:
        return _fixed_match(pattern, text)
    first, *middle, last = pattern.split("*")
    end = len(text) - len(last)
    if end < len(first) or not (_fixed_match(first, text[:len(first)])
                                and _fixed_match(last, text[end:])):
        return False
    position = len(first)
    for piece in middle:
        if not piece:
            continue
        if "?" in piece:
            found = _piece_regex(piece).search(text, position, end)
            position = found.end() if found else -1
        else:
            at = text.find(piece, position, end)
            position = at + len(piece) if at >= 0 else -1
        if position < 0:
            return False
    return True


def _fixed_match(piece: str, text: str) -> bool:
    """A piece without stars against text of the same length (`?` matches any character)."""
    if "?" not in piece:
        return piece == text
    return len(piece) == len(text) and all(p in ("?", c) for p, c in zip(piece, text,
                                                                          strict=True))


@functools.lru_cache(maxsize=1024)
def _piece_regex(piece: str) -> re.Pattern[str]:
    # Literals and `.` only: no quantifier, so a search tries each start once.
    return re.compile("".join("." if c == "?" else re.escape(c) for c in piece), re.DOTALL)


@functools.lru_cache(maxsize=4096)  # policies repeat the same few pairs many times
def _glob(pattern: str, text: str, ignore_case: bool) -> bool:
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    return _glob_match(pattern, text)


def action_matches(pattern: str, action: str) -> bool:
    """Does IAM action `pattern` (`*` and `?` wildcards) cover `action`? Case-insensitive.
    Wildcards in `action` are literal, so `kms:*` covers `kms:GenerateDataKey*` but
    `kms:GenerateDataKey` does not."""
    return _glob(pattern.strip(), action.strip(), True)


def pattern_matches(pattern: str, text: str) -> bool:
    """Case-sensitive glob match, for ARNs and other resource text."""
    return _glob(pattern, text, False)


# ---------------------------------------------------------------------------- statements


def _items(value: Any) -> list[Any]:
    if value is None or value is NO_VALUE:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    """The statement mappings of a policy document (one mapping or a list; others skipped)."""
    return [s for _, s in located_statements(document, ())]


def located_statements(document: Any, path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(absolute path, statement) pairs; `path` is the document's own path."""
    if not isinstance(document, dict):
        return []
    raw = document.get("Statement")
    if isinstance(raw, dict):
        return [((*path, "Statement"), raw)]
    if isinstance(raw, list):
        return [((*path, "Statement", i), s) for i, s in enumerate(raw) if isinstance(s, dict)]
    return []


def effect_of(statement: Mapping[str, Any]) -> str:
    """"Allow" or "Deny" (as written, capitalised; anything else is returned as is)."""
    effect = statement.get("Effect")
    return effect.capitalize() if isinstance(effect, str) else str(effect)


def _texts(value: Any, template: Template | None = None) -> tuple[str, ...]:
    return tuple(item if isinstance(item, str) else render(item, template)
                 for item in _items(value))


def actions_of(statement: Mapping[str, Any]) -> tuple[str, ...]:
    """The `Action` entries (strings; an intrinsic renders to a `${...}` token)."""
    return _texts(statement.get("Action"))


def not_actions_of(statement: Mapping[str, Any]) -> tuple[str, ...]:
    return _texts(statement.get("NotAction"))


def allows_action(statement: Mapping[str, Any], action: str) -> bool:
    """Does the statement's Action (or NotAction) cover `action`, whatever its Effect?"""
    if "NotAction" in statement:
        return not any(action_matches(p, action) for p in not_actions_of(statement))
    return any(action_matches(p, action) for p in actions_of(statement))


def write_actions_allowed(statement: Mapping[str, Any], service: str) -> tuple[str, ...]:
    """The write/delete actions of `service` (see DATA_STORE_WRITE_ACTIONS) the statement's
    actions cover."""
    return tuple(a for a in DATA_STORE_WRITE_ACTIONS.get(service, ())
                 if allows_action(statement, a))


def resources_of(statement: Mapping[str, Any], template: Template | None = None,
                 scenario: Scenario = NO_CONDITIONS) -> tuple[str, ...]:
    """The `Resource` entries rendered to text (empty when the statement uses NotResource);
    a list parameter or `Fn::Split` gives one entry per item."""
    return tuple(item if isinstance(item, str) else render(item, template, scenario)
                 for item in _listed(statement.get("Resource"), template, scenario))


def _listed(value: Any, template: Template | None, scenario: Scenario) -> list[Any]:
    """The entries of a policy value; an intrinsic that resolves to a list (a list parameter,
    `Fn::Split`) gives its items."""
    if isinstance(value, dict) and _is_intrinsic(value) and template is not None:
        resolved = resolve(value, template, scenario)
        if isinstance(resolved, list):
            return resolved
    return _items(value)


# ---------------------------------------------------------------------------- principals

_ACCOUNT_ID = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:[^:]*:(?:iam|sts)::(\$\{[^}]*\}|[^:]*):(.*)", re.DOTALL)
_ATTRIBUTE_TOKEN = re.compile(r"\$\{[^}.:]+\.[^}]+\}")
_CLOUDFRONT_OAI = "user/CloudFront Origin Access Identity "

# What a principal is, decided once here for every rule (`Principal.category`).
EVERYONE = "everyone"  # `*`: any AWS principal
ACCOUNT = "account"  # an account as a whole: its id, its root ARN, or an unknown account value
IDENTITY = "identity"  # a role, user or session in an account (the stack's own resources too)
SERVICE = "service"  # an AWS service principal (`logs.amazonaws.com`)
CLOUDFRONT_OAI = "cloudfront-oai"  # `arn:aws:iam::cloudfront:user/CloudFront Origin Access ...`
FEDERATED = "federated"  # a SAML or OIDC provider, Cognito identity pools
CANONICAL_USER = "canonical-user"  # an S3 canonical user id (a CloudFront OAI's, usually)
UNKNOWN = "unknown"  # written in no form IAM accepts for an account


def classify_principal(kind: str, text: str) -> tuple[str, str | None]:
    """(category, account) of a principal given its key (AWS, Service, ...) and rendered
    text. The account is `*`, SAME_ACCOUNT, a 12-digit id or the `${...}` token of a value
    known only at deployment; None when the principal is not an account's (services, the
    CloudFront OAI, federated and canonical users, malformed text): no account is invented."""
    if kind == "Service":
        return SERVICE, None
    if kind == "Federated":
        return FEDERATED, None
    if kind == "CanonicalUser":
        return CANONICAL_USER, None
    if kind not in ("*", "AWS"):
        return UNKNOWN, None
    if text == "*":
        return EVERYONE, "*"
    if text == SAME_ACCOUNT:
        return ACCOUNT, SAME_ACCOUNT
    if _ATTRIBUTE_TOKEN.fullmatch(text):
        return IDENTITY, SAME_ACCOUNT  # a role or user created in the stack
    if _ACCOUNT_ID.fullmatch(text) or (text.startswith("${") and text.endswith("}")):
        return ACCOUNT, text  # a token: an account id or ARN from a parameter, an import, ...
    match = _IAM_ARN.fullmatch(text)
    if match is None:
        return UNKNOWN, None
    account, resource = match.groups()
    if account == "cloudfront" and resource.startswith(_CLOUDFRONT_OAI):
        return CLOUDFRONT_OAI, None
    if not (_ACCOUNT_ID.fullmatch(account) or _TOKEN.fullmatch(account)):
        return UNKNOWN, None
    return (ACCOUNT if resource == "root" else IDENTITY), account


@dataclass(frozen=True, slots=True)
class Principal:
    """One principal of a statement: `kind` is the key it is written under (AWS, Service,
    Federated, CanonicalUser, or `*` for a bare `Principal: "*"`); `text` is the rendered
    value; `category` says what it is (see `classify_principal`)."""

    kind: str
    text: str
    value: Any = None

    @property
    def category(self) -> str:
        return classify_principal(self.kind, self.text)[0]

    @property
    def is_everyone(self) -> bool:
        return self.text == "*" and self.kind in ("*", "AWS")

    @property
    def account(self) -> str | None:
        """The account the principal belongs to: `*`, SAME_ACCOUNT, a 12-digit id, or the
        token of an account known only at deployment (e.g. `${ConsumerAccount}`, a parameter
        without a default). None for anything that is not an account's principal."""
        return classify_principal(self.kind, self.text)[1]

    @property
    def shown(self) -> str:
        """The principal for a message: quoted text, with values known only at deployment
        described rather than printed as tokens."""
        return shown(self.text, "account" if self.account is not None else "principal")

    def is_other_account(self, stack_account: str = "") -> bool:
        """True for `*`, literal accounts other than `stack_account`, and unknown accounts
        (parameters without defaults, imports): whoever is not provably the stack's account."""
        account = self.account
        return account is not None and account not in (SAME_ACCOUNT, stack_account)


def principals_of(statement: Mapping[str, Any], template: Template | None = None,
                  scenario: Scenario = NO_CONDITIONS, key: str = "Principal"
                  ) -> tuple[Principal, ...]:
    """Every principal of the statement (`key="NotPrincipal"` for the other one)."""
    raw = statement.get(key)
    if raw is None or raw is NO_VALUE:
        return ()
    if not isinstance(raw, dict) or _is_intrinsic(raw):
        return (Principal("*", render(raw, template, scenario), raw),)
    found = []
    for kind, value in raw.items():
        if isinstance(value, dict) and _is_intrinsic(value) and template is not None:
            literal = resolve(value, template, scenario)
            value = literal if isinstance(literal, list) else value
        for item in _items(value):
            text = item if isinstance(item, str) else render(item, template, scenario)
            found.append(Principal(kind, text.strip(), item))
    return tuple(found)


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    if len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::")


# ---------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class Condition:
    """One `operator: {key: values}` entry. `base` drops the ForAnyValue:/ForAllValues: set
    qualifier and the IfExists suffix: `StringEqualsIfExists` has base `StringEquals`."""

    operator: str
    key: str
    values: tuple[str, ...]

    @property
    def base(self) -> str:
        op = self.operator.split(":", 1)[1] if ":" in self.operator else self.operator
        return op[:-len("IfExists")] if op.endswith("IfExists") else op

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")

    def key_is(self, key: str) -> bool:
        return self.key.lower() == key.lower()


def conditions_of(statement: Mapping[str, Any], template: Template | None = None,
                  scenario: Scenario = NO_CONDITIONS) -> tuple[Condition, ...]:
    block = statement.get("Condition")
    if not isinstance(block, dict):
        return ()
    found = []
    for operator, entries in block.items():
        if not isinstance(entries, dict):
            continue
        for key, values in entries.items():
            texts = tuple(render(v, template, scenario)
                          for v in _listed(values, template, scenario))
            found.append(Condition(str(operator), str(key), texts))
    return tuple(found)


def condition_values(statement: Mapping[str, Any], key: str,
                     operators: Iterable[str] | None = None,
                     template: Template | None = None) -> tuple[str, ...] | None:
    """Values of condition `key` (case-insensitive) under any of `operators` (exact operator
    names, compared case-insensitively; default any); None when the key is not there."""
    wanted = {o.lower() for o in operators} if operators is not None else None
    values: list[str] = []
    found = False
    for condition in conditions_of(statement, template):
        if condition.key_is(key) and (wanted is None or condition.operator.lower() in wanted):
            found = True
            values.extend(condition.values)
    return tuple(values) if found else None


# -------------------------------------------------------------------------------- buckets


def bucket_name(bucket: Resource, template: Template,
                scenario: Scenario = NO_CONDITIONS) -> str | None:
    """The rendered `BucketName`, or None when CloudFormation generates the name."""
    raw = branch(bucket.properties.get("BucketName"), scenario)
    if raw is None or raw is NO_VALUE:
        return None
    return render(raw, template, scenario)


def bucket_arns(bucket: Resource, template: Template,
                scenario: Scenario = NO_CONDITIONS) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ARN forms of the bucket, ARN forms of "all its objects"): the texts a policy Resource
    may render to, e.g. `${B.Arn}`, `arn:aws:s3:::${B}`, `arn:aws:s3:::my-name`."""
    names = ["${" + bucket.logical_id + "}"]
    literal = bucket_name(bucket, template, scenario)
    if literal and literal not in names:
        names.append(literal)
    arns = ("${" + bucket.logical_id + ".Arn}", *(f"arn:aws:s3:::{n}" for n in names))
    return arns, tuple(f"{a}/*" for a in arns)


_POLICY_INDEX: dict[int, tuple[Template, dict[str, list[Resource]]]] = {}


def _policies_by_bucket_text(template: Template) -> dict[str, list[Resource]]:
    cached = _POLICY_INDEX.get(id(template))
    if cached is not None and cached[0] is template:
        return cached[1]
    index: dict[str, list[Resource]] = {}
    for policy in template.of_type("AWS::S3::BucketPolicy"):
        text = render(policy.properties.get("Bucket"), template)
        index.setdefault(text, []).append(policy)
    if len(_POLICY_INDEX) > 8:
        _POLICY_INDEX.clear()
    _POLICY_INDEX[id(template)] = (template, index)
    return index


def bucket_policies(ctx: Context, bucket: Resource) -> list[Resource]:
    """The `AWS::S3::BucketPolicy` resources attached to `bucket`: `Bucket: !Ref B` through
    the graph, or a literal (or parameter-default) name equal to the bucket's `BucketName`.
    A policy attached to another bucket is never returned."""
    found = ctx.referring_resources(bucket, types=("AWS::S3::BucketPolicy",),
                                    under=("Properties", "Bucket"))
    name = bucket_name(bucket, ctx.template)
    if name and "${?}" not in name:
        for policy in _policies_by_bucket_text(ctx.template).get(name, []):
            if policy not in found:
                found.append(policy)
    for policy in found:
        ctx.examine(policy)
    return found


# ---------------------------------------------------------------------------------- roles


@dataclass(frozen=True, slots=True)
class PolicySource:
    """A policy document that applies to a role: `resource` holds it at `path`; `document` is
    raw (branch it with `in_scenario`)."""

    resource: Resource
    path: Path
    document: Any


_ATTACHING_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


def role_policy_documents(ctx: Context, role: Resource) -> list[PolicySource]:
    """Inline `Policies` of the role, `AWS::IAM::Policy`/`ManagedPolicy` resources that name
    it in `Roles`, `AWS::IAM::RolePolicy` resources naming it in `RoleName`, and in-stack
    managed policies listed in its `ManagedPolicyArns`; all found through the graph."""
    sources = []
    for i, item in enumerate(_items(role.properties.get("Policies"))):
        document = _inline_document(item)
        if document is not None:
            sources.append(PolicySource(role, role.at("Properties", "Policies", i,
                                                      "PolicyDocument"), document))
    attached = ctx.referring_resources(role, types=_ATTACHING_TYPES, under=("Properties", "Roles"))
    attached += ctx.referring_resources(role, types=("AWS::IAM::RolePolicy",),
                                        under=("Properties", "RoleName"))
    for policy in ctx.targets_at(role, "Properties", "ManagedPolicyArns",
                                 types=("AWS::IAM::ManagedPolicy",)):
        if policy not in attached:
            attached.append(policy)
    for policy in attached:
        ctx.examine(policy)
        sources.append(PolicySource(policy, policy.at("Properties", "PolicyDocument"),
                                    policy.properties.get("PolicyDocument")))
    return sources


def _inline_document(item: Any) -> Any:
    if not isinstance(item, dict):
        return None
    arg = item.get("Fn::If")
    if len(item) == 1 and isinstance(arg, list) and len(arg) == 3:
        chosen = [_inline_document(a) for a in arg[1:]]
        return {"Fn::If": [arg[0], *(c if c is not None else {"Ref": "AWS::NoValue"}
                                     for c in chosen)]}
    return item.get("PolicyDocument")


# ------------------------------------------------------------------------------ scenarios


def exists_in(resource: Resource, scenario: Scenario) -> bool:
    """False when the resource's own `Condition` is false in `scenario`."""
    return resource.condition is None or dict(scenario).get(resource.condition, True)


def in_scenario(value: Any, scenario: Scenario) -> Any:
    """`value` as deployed in `scenario` (Fn::If picked, AWS::NoValue removed)."""
    return branch(value, scenario)


