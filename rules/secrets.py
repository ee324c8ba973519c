"""Secrets in templates and parameters (category `secrets`).

A name "looks like a secret" when its words (split at camelCase, `_`, `-`) contain a secret word
(password, secret, token, API key, ...) and its last word does not say it only identifies or
describes the secret (`SecretArn`, `PasswordLength`, `TOKEN_TABLE`).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cfnaudit.rule import (
    Context,
    Parameter,
    Resource,
    Severity,
    Variant,
    Violation,
    rule,
    sub_variables,
)

Path = tuple[str | int, ...]

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "passphrase", "secret", "token",
                           "apikey", "credential", "credentials"})
_SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"),
                           ("auth", "key"), ("signing", "key")})
_SECRET_SUBSTRINGS = ("password", "passwd", "secret", "apikey", "privatekey", "authtoken",
                      "accesstoken")
# Last words that make the name about the secret, not the secret itself.
_DESCRIBING = frozenset({
    "arn", "arns", "name", "names", "id", "ids", "length", "path", "parameter", "param",
    "version", "type", "policy", "table", "endpoint", "url", "uri", "template", "stage",
    "bucket", "prefix", "region", "header", "field", "location", "ref", "expiry",
    "expiration", "ttl", "duration", "minutes", "seconds", "days", "hours", "units",
    "enabled", "required", "rotation", "config", "configuration", "settings", "mode", "file",
    "port", "host", "hostname", "username", "user", "kms", "alias",
    "count", "size", "format", "requirements", "reset", "validity", "source",
    "provider", "lambda", "function", "role", "group", "manager", "store", "generator",
    "strategy", "schedule", "rules", "options", "secretid", "account",
})
_DYNAMIC_SECRET = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")
_DYNAMIC_SPAN = re.compile(r"\{\{resolve:[^}]*(\}(?!\})[^}]*)*\}\}")
_SERVICE_TOKEN = "ServiceToken"
_TIME_UNITS = frozenset({"seconds", "minutes", "hours", "days"})


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


@functools.lru_cache(maxsize=8192)  # the same property names recur in every template
def looks_like_secret(name: str) -> bool:
    parts = words(name)
    if not parts or parts[-1] in _DESCRIBING:
        return False
    if parts[-1] == "key" and "kms" in parts:
        return False  # `SecretsKMSKey`: the key that encrypts a secret
    if any(p in _SECRET_WORDS for p in parts):
        return True
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(parts)):
        return True
    joined = "".join(parts)
    return any(s in joined for s in _SECRET_SUBSTRINGS)


# ------------------------------------------------------------------------- parameters

# Defaults that only mark where a value goes (`<>`, `CHANGEME`, `xxxx`): no secret is stored.
_PLACEHOLDERS = frozenset({"changeme", "replaceme", "placeholder", "todo", "tbd", "none",
                           "null", "notset", "unset"})
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def is_placeholder(text: str) -> bool:
    """A value that holds nothing: no letters or digits, a run of `x`, or a placeholder word
    (`CHANGE_ME`, `<replace-me>`)."""
    bare = _NOT_ALPHANUMERIC.sub("", text.lower())
    return not bare or set(bare) == {"x"} or bare in _PLACEHOLDERS

_PLAIN_TYPES = ("String", "Number", "CommaDelimitedList", "")


@rule(code="SEC001", name="secret-parameter-exposed", severity=Severity.ERROR,
      category="secrets", security=True)
def secret_parameter_exposed(ctx: Context) -> Iterator[Violation]:
    """Secret parameter is echoed, has a default, or is copied where NoEcho does not mask it.

    ## What it does
    Treats as secret every parameter of a plain type (`String`, `Number`,
    `CommaDelimitedList`) that is `NoEcho: true` or whose name looks like a secret
    (`DBPassword`, `ApiKey`, `GitHubToken`, `ClientSecret`, ...; not `SecretArn`,
    `PasswordLength` or `TokenTableName`). Reports secret-looking parameters without
    `NoEcho: true`, secret parameters with a `Default` (an empty one, or a placeholder such
    as `<>`, `CHANGE_ME` or `xxxx`, stores nothing and passes), and secret parameters
    referenced from `Outputs` or from a resource's `Metadata` (found through the resource
    graph). The resources that use secret parameters are what the rule examines.

    ## Why is this bad?
    Without `NoEcho` the value is shown in plain text by `describe-stacks`, the console's
    Parameters tab and every change set, to anyone with read access to the stack. A `Default`
    writes the secret into the template, and so into version control, artifact buckets and
    CI logs; `NoEcho` does not hide it there. CloudFormation documents that `NoEcho` does not
    mask values copied into outputs or metadata either.

    ## Example
    ```yaml
    Parameters:
      ApiKey:
        Type: String
        Default: sk-live-1234567890
    Resources:
      Queue:
        Type: AWS::SQS::Queue
    ```

    ## Use instead
    ```yaml
    Parameters:
      ApiKeySecretArn:
        Type: String
    Resources:
      Queue:
        Type: AWS::SQS::Queue
    ```

    ## Known problems
    Only names and `NoEcho` reveal a secret; a secret in a parameter called `Value1` is not
    found. References from the template-level `Metadata` section are not followed. A `NoEcho`
    parameter is still a weak home for a secret: prefer Secrets Manager (see SEC003).

    ## References
    - [Parameters: NoEcho](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html#parameters-section-structure-properties)
    - [Do not embed credentials in your templates](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security-best-practices.html#creds)
    """
    secret = {p.name for p in ctx.template.parameters.values()
              if p.type in _PLAIN_TYPES and (p.no_echo or looks_like_secret(p.name))}
    if not secret:
        return
    exposures: dict[str, list[Path]] = {}
    for resource in ctx.template.resources.values():  # one pass over the graph's edges
        for edge in ctx.graph.targets(resource.logical_id, section="Parameters"):
            if edge.target_id in secret:
                ctx.examine(resource)
                if edge.path[2:3] == ("Metadata",):
                    exposures.setdefault(edge.target_id, []).append(edge.path)
    for edge in ctx.graph.output_edges():
        if edge.target[0] == "Parameters" and edge.target_id in secret:
            exposures.setdefault(edge.target_id, []).append(edge.path)
    for name in sorted(secret):
        parameter = ctx.template.parameters[name]
        yield from _parameter_problems(parameter)
        for path in exposures.get(name, []):
            where = "an output" if path[0] == "Outputs" else f"the metadata of `{path[1]}`"
            yield Violation(f"Secret parameter `{name}` is written to {where}, where `NoEcho` "
                            "does not mask it", path, key=name)


def _parameter_problems(parameter: Parameter) -> Iterator[Violation]:
    noun = f"Parameter `{parameter.name}` looks like a secret"
    if not parameter.no_echo:
        path = (*parameter.path, "NoEcho") if "NoEcho" in parameter.raw else parameter.path
        yield Violation(f"{noun} but is not `NoEcho: true`, so its value is shown in stack "
                        "descriptions", path, key="noecho")
    default = parameter.raw.get("Default")
    if default is not None and not is_placeholder(str(default)):
        what = "looks like a secret" if looks_like_secret(parameter.name) else "is `NoEcho`"
        yield Violation(f"Parameter `{parameter.name}` {what} but has a `Default`, which stores "
                        "the value in the template", (*parameter.path, "Default"),
                        key="default")


# ---------------------------------------------------------------------- literal values

def _is_literal(value: Any) -> bool:
    """A value fixed in the template text: a string, or a Sub/Join with no references.
    Secrets Manager and SecureString dynamic references are not literal."""
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and not _DYNAMIC_SECRET.search(text) and not text.startswith(
            ("arn:", "{{resolve:", "$")) and text.lower() not in ("true", "false", *_TIME_UNITS)
    if isinstance(value, dict) and len(value) == 1:
        (name, arg), = value.items()
        if name == "Fn::Sub":
            return isinstance(arg, str) and not list(sub_variables(arg)) and _is_literal(arg)
        if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
                and isinstance(arg[1], list):
            return all(isinstance(p, (str, int)) for p in arg[1]) and _is_literal(
                str(arg[0]).join(str(p) for p in arg[1]))
    return False


def _is_value(item: Any) -> bool:
    """A scalar or an intrinsic, not a block of nested properties."""
    return not isinstance(item, (dict, list)) or (
        isinstance(item, dict) and len(item) == 1 and (
            next(iter(item)).startswith("Fn::") or "Ref" in item))


def secret_entries(value: Any, path: Path) -> Iterator[tuple[str, Any, Path]]:
    """(name, value, path) of every secret-named property or environment entry below
    `value`."""
    stack: list[tuple[Any, Path]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((item, (*where, i)) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        if len(node) == 1 and next(iter(node)).startswith("Fn::"):
            continue  # inside an intrinsic: no property names here
        pair = _name_value_pair(node)
        if pair is not None:
            if looks_like_secret(pair[0]):
                yield pair[0], pair[1], (*where, "Value")
            continue
        for key, item in node.items():
            if _secret_key(key) and _is_value(item):
                yield key, item, (*where, key)
            elif isinstance(item, (dict, list)):
                stack.append((item, (*where, key)))


@functools.lru_cache(maxsize=8192)
def _secret_key(key: str) -> bool:
    """A property name that names a secret. IAM condition keys
    (`secretsmanager:ResourceTag/App`) and Step Functions paths (`token.$`) are not property
    names, nor is a custom resource's `ServiceToken`."""
    return key != _SERVICE_TOKEN and not any(c in key for c in ":/$") \
        and looks_like_secret(key.lstrip("-"))


# Words of a filler that a property requires but nobody checks (an EventBridge connection to an
# open API must still carry an API key): `dummy-value`, `MyAPIkey`, `KeyValue`. Words that ask
# for the real secret (`<PASSWORD_UPDATE_ME>`) are not filler: the value is meant to be typed in.
_FILLER_WORDS = frozenset({"dummy", "fake", "filler", "unused", "my", "api", "apikey", "key",
                           "value", "any", "none"})


def is_filler(value: Any) -> bool:
    """A literal made only of filler words, whatever the case and separators, with no digits
    (`MyAPIkey` is `my` `api` `key`): it cannot be a working secret."""
    if not isinstance(value, str):
        return False
    bare = _NOT_ALPHANUMERIC.sub("", value.lower())
    # ends[i]: the first i characters split into filler words
    ends = [True] + [False] * len(bare)
    for i in range(1, len(bare) + 1):
        ends[i] = any(ends[i - len(w)] and bare[i - len(w):i] == w
                      for w in _FILLER_WORDS if len(w) <= i)
    return bool(bare) and ends[-1]


def _literal_secrets(value: Any, path: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every secret-named entry with a literal value below `value`."""
    for name, item, where in secret_entries(value, path):
        if _is_literal(item) and not is_filler(item):
            yield name, where


def _name_value_pair(node: Mapping[str, Any]) -> tuple[str, Any] | None:
    """`{Name: X, Value: Y}` environment entries (ECS, Batch, CodeBuild PLAINTEXT)."""
    name = node.get("Name")
    if not isinstance(name, str) or "Value" not in node:
        return None
    kind = node.get("Type")
    if isinstance(kind, str) and kind.upper() != "PLAINTEXT":
        return None  # CodeBuild SECRETS_MANAGER / PARAMETER_STORE entries hold a name
    return name, node["Value"]


@rule(code="SEC002", name="literal-secret-value", severity=Severity.ERROR, category="secrets",
      security=True)
def literal_secret_value(ctx: Context) -> Iterator[Violation]:
    """Secret value is written in the template.

    ## What it does
    Walks every resource's properties and reports secret-named properties
    (`MasterUserPassword`, `SecretString`, `AuthToken`, `Password`, `client_secret`, ...)
    and secret-named environment variables (Lambda `Environment.Variables`, ECS/Batch
    `{Name, Value}` entries, Glue `--db-password` arguments) whose value is fixed in the
    template text: a string, or a `Fn::Sub`/`Fn::Join` without references. Dynamic
    references `{{resolve:secretsmanager:...}}` and `{{resolve:ssm-secure:...}}`, ARNs and
    values from parameters or resources are not literal. A filler made only of words such as
    `dummy`, `my`, `api`, `key`, `value` (`dummy-value`, `MyAPIkey`: the API key an
    EventBridge connection to an open API must carry) is not a secret and passes; a
    placeholder asking for the real value (`<PASSWORD_UPDATE_ME>`) is reported, because it
    tells users to write the secret into the template. Every `Fn::If` branch is checked.

    ## Why is this bad?
    A template is copied into version control, artifact buckets, CI logs and the
    CloudFormation console (`GetTemplate`); a secret in it is readable by everyone who can
    read any of those, cannot be rotated without a deployment, and stays in the history
    forever. Environment variables are also shown in plain text by the Lambda console and
    `GetFunctionConfiguration`.

    ## Example
    ```yaml
    Resources:
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
          Environment:
            Variables:
              VENDOR_API_KEY: sk-live-1234567890
    ```

    ## Use instead
    ```yaml
    Resources:
      VendorKey:
        Type: AWS::SecretsManager::Secret
        Properties:
          Description: vendor API key, set out of band
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
          Environment:
            Variables:
              VENDOR_API_KEY_SECRET_ARN: !Ref VendorKey
    ```

    ## Known problems
    Only names reveal a secret. A dynamic reference in an environment variable still puts the
    resolved secret into the function configuration; reading the secret at run time is
    better, but it is not reported here.

    ## References
    - [Using dynamic references to specify template values](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html)
    - [Do not embed credentials in your templates](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/security-best-practices.html#creds)
    """
    types = dict.fromkeys(r.type for r in ctx.template.resources.values())
    for resource in ctx.resources(*types):
        if any(True for _ in _literal_secrets(dict(resource.properties), ())):
            yield from ctx.each_variant(resource, lambda v, r=resource: _literal(r, v))


def _literal(resource: Resource, v: Variant) -> Iterator[Violation]:
    for name, path in _literal_secrets(dict(v.properties), resource.at("Properties")):
        yield Violation(f"`{resource.logical_id}` writes the secret `{name}` as a literal value "
                        "in the template", path)


# ------------------------------------------------------------------ database passwords

_DATABASES = {
    "AWS::RDS::DBInstance": "Database",
    "AWS::RDS::DBCluster": "Cluster",
    "AWS::Redshift::Cluster": "Cluster",
    "AWS::DocDB::DBCluster": "Cluster",
}


_PASS_THROUGH = frozenset({"AWS::CloudFormation::Stack", "AWS::Serverless::Application"})

# Resources whose secret properties create a credential: the stack owns these passwords and
# could let the service manage them or generate them.
_OWNERS = frozenset({
    *_DATABASES, "AWS::AmazonMQ::Broker", "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::User", "AWS::MemoryDB::User", "AWS::DirectoryService::MicrosoftAD",
    "AWS::DirectoryService::SimpleAD", "AWS::OpenSearchService::Domain",
    "AWS::Elasticsearch::Domain", "AWS::IAM::User", "AWS::RedshiftServerless::Namespace",
    "AWS::DocDBElastic::Cluster", "AWS::Lightsail::Database",
})
# Properties that keep a credential someone else issued (a webhook signing secret, a third
# party's API key or OAuth client secret, an existing directory user's password) encrypted in
# a managed secret. Such a value can only come in from outside: a parameter is the way in.
_STORES: Mapping[str, frozenset[str]] = {
    "AWS::SecretsManager::Secret": frozenset({"SecretString"}),
    "AWS::Events::Connection": frozenset({"AuthParameters"}),
    "AWS::Amplify::App": frozenset({"OauthToken", "AccessToken"}),
    "AWS::CodeBuild::SourceCredential": frozenset({"Token"}),
}


@dataclass(frozen=True)
class _Owned:
    """Parameters and stack secrets that set a password the stack creates."""

    parameters: frozenset[str]
    secrets: frozenset[str]


def _owned(ctx: Context) -> _Owned:
    parameters: set[str] = set()
    secrets: set[str] = set()
    for resource in ctx.template.resources.values():
        if resource.type in _OWNERS:
            for _, value, _ in secret_entries(dict(resource.properties), ()):
                parameters.update(_parameters_in(ctx, value))
                secrets.update(s.logical_id for s in _secrets_read(ctx, value))
    return _Owned(frozenset(parameters), frozenset(secrets))


@rule(code="SEC003", name="secret-from-parameter", severity=Severity.ERROR,
      category="secrets", security=True)
def secret_from_parameter(ctx: Context) -> Iterator[Violation]:
    """Password or other secret property takes its value from a stack parameter.

    ## What it does
    Walks every resource's properties and reports secret-named properties and environment
    entries (`MasterUserPassword`, `Password`, `AuthToken`, `SecretString`, `DB_PASSWORD`,
    ...) whose value refers to a stack parameter (`!Ref`, `!Sub`, `!Join`), even when the
    parameter is `NoEcho`. For database master passwords (RDS, Aurora, Redshift, DocumentDB)
    it also follows a dynamic reference to a Secrets Manager secret of the stack and reports
    it when that secret's password is itself built from a parameter. Fine: a dynamic
    reference (`{{resolve:secretsmanager:...}}`, where a parameter may name the secret),
    `ManageMasterUserPassword: true`, and secrets generated with `GenerateSecretString`.
    Literal values are SEC002's concern.

    Credentials issued outside the stack (a webhook signing secret, a third party's API key or
    OAuth client secret, the password of an existing directory user) cannot be generated: a
    parameter stored into a Secrets Manager `SecretString`, an EventBridge connection's
    `AuthParameters`, Amplify's `OauthToken`/`AccessToken` or a CodeBuild source credential
    is the right way in and passes. It is reported when the same parameter (or the secret,
    through a dynamic reference) also sets a password the stack creates: a database, broker,
    cache, directory or search-domain master password. Secrets in Lambda or container
    environment variables are always reported: they are readable in the function's
    configuration.

    ## Why is this bad?
    A parameter password is typed by a person or a pipeline, lives in their shell history or
    CI variables, is never rotated (changing it means a stack update), and is shared by
    every environment that reuses the parameter file. `NoEcho` only hides it from
    `describe-stacks`. Letting the service manage the password in Secrets Manager, or
    generating it in a secret, gives a random password nobody has seen, with rotation.

    ## Example
    ```yaml
    Parameters:
      DBPassword:
        Type: String
        NoEcho: true
    Resources:
      Database:
        Type: AWS::RDS::DBInstance
        Properties:
          Engine: postgres
          DBInstanceClass: db.t4g.micro
          AllocatedStorage: "20"
          MasterUsername: pipeline
          MasterUserPassword: !Ref DBPassword
    ```

    ## Use instead
    ```yaml
    Resources:
      Database:
        Type: AWS::RDS::DBInstance
        Properties:
          Engine: postgres
          DBInstanceClass: db.t4g.micro
          AllocatedStorage: "20"
          MasterUsername: pipeline
          ManageMasterUserPassword: true
    ```

    ## Known problems
    Only names reveal a secret property. Instances that join a cluster or restore a snapshot
    carry no password and are not reported. Parameters passed on to nested stacks are not
    reported (the nested template is checked on its own). A secret that stores the password
    of a database in another stack is taken for a credential issued elsewhere.

    ## References
    - [Password management with Amazon RDS and AWS Secrets Manager](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html)
    - [AWS::SecretsManager::Secret GenerateSecretString](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-secretsmanager-secret-generatesecretstring.html)
    - [Using dynamic references to specify template values](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html)
    """
    types = dict.fromkeys(r.type for r in ctx.template.resources.values())
    owned: _Owned | None = None
    for resource in ctx.resources(*types):
        if resource.type in _PASS_THROUGH:
            continue  # a nested stack's parameter is the same secret, checked there
        if resource.type in _DATABASES or any(
                True for _ in secret_entries(dict(resource.properties), ())):
            owned = owned or _owned(ctx)
            yield from ctx.each_variant(resource, lambda v, r=resource, o=owned:
                                        _from_parameters(ctx, r, v, o))


def _from_parameters(ctx: Context, resource: Resource, v: Variant, owned: _Owned
                     ) -> Iterator[Violation]:
    kind = _DATABASES.get(resource.type) or (
        "Secret" if resource.type == "AWS::SecretsManager::Secret" else "Resource")
    noun = f"{kind} `{resource.logical_id}`"
    stored = _STORES.get(resource.type, frozenset())
    for name, value, path in secret_entries(dict(v.properties), resource.at("Properties")):
        if name == "SecretString":
            names = _secret_string_parameters(ctx, value)
        else:
            names = _parameters_in(ctx, value)
        if path[3] in stored and resource.logical_id not in owned.secrets:
            # a credential issued elsewhere, kept where it belongs; unless the same parameter
            # also sets a password the stack creates
            names = [n for n in names if n in owned.parameters]
        what = "its master password" if name == "MasterUserPassword" else f"`{name}`"
        for parameter in names:
            yield Violation(f"{noun} takes {what} from parameter `{parameter}` instead of a "
                            "managed or generated secret", path, key=f"{name}:{parameter}")
        if name == "MasterUserPassword" and resource.type in _DATABASES:
            yield from _through_secret(ctx, noun, value, path)


def _parameters_in(ctx: Context, value: Any) -> list[str]:
    """Parameter names a value refers to through Ref, Sub and nested intrinsics."""
    found: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if len(node) == 1 and isinstance(node.get("Ref"), str):
                if node["Ref"] in ctx.template.parameters:
                    found.append(node["Ref"])
                continue
            if len(node) == 1 and "Fn::Sub" in node:
                arg = node["Fn::Sub"]
                text = arg[0] if isinstance(arg, list) and arg else arg
                local = arg[1] if isinstance(arg, list) and len(arg) == 2 else {}
                if isinstance(text, str):
                    # Variables inside a dynamic reference name the secret; they are not it.
                    text = _DYNAMIC_SPAN.sub("", text)
                    found.extend(n for n in sub_variables(text)
                                 if n in ctx.template.parameters and n not in local)
                if isinstance(local, dict):
                    stack.extend(local.values())
                continue
            stack.extend(node.values())
    return list(dict.fromkeys(found))


def _secrets_read(ctx: Context, value: Any) -> list[Resource]:
    """Secrets of the stack that a dynamic reference in `value` reads."""
    arg = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else None
    text = arg[0] if isinstance(arg, list) and arg else arg
    if not isinstance(text, str) or "{{resolve:secretsmanager:" not in text:
        return []
    found = []
    for name in sub_variables(text):
        resource = ctx.template.resources.get(name.split(".", 1)[0])
        if resource is not None and resource.type == "AWS::SecretsManager::Secret":
            found.append(resource)
    return found


def _through_secret(ctx: Context, noun: str, value: Any, path: Path) -> Iterator[Violation]:
    for secret in _secrets_read(ctx, value):
        ctx.examine(secret)
        for name in _secret_string_parameters(ctx, secret.properties.get("SecretString")):
            yield Violation(f"{noun} reads secret `{secret.logical_id}`, whose value comes from "
                            f"parameter `{name}`; generate it with `GenerateSecretString`",
                            path, key=f"{secret.logical_id}:{name}")


_JSON_FIELD = re.compile(r'"([^"]+)"\s*:\s*"?\$\{([^}]+)\}')


def _secret_string_parameters(ctx: Context, value: Any) -> list[str]:
    """Parameters in a hand-built JSON `SecretString`; when its fields can be read, only those
    under secret-looking keys (`password`, not `username`)."""
    names = _parameters_in(ctx, value)
    text = _json_text(value)
    if text is None:
        return names
    fields = {var: key for key, var in _JSON_FIELD.findall(text)}
    if not fields:
        return names
    return [n for n in names if n not in fields or looks_like_secret(fields[n])]


def _json_text(value: Any) -> str | None:
    """The text of a Sub, or of a Join with `${Name}` standing for each `Ref`."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (name, arg), = value.items()
    if name == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        return text if isinstance(text, str) else None
    if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 \
            and isinstance(arg[1], list):
        parts = []
        for item in arg[1]:
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, dict) and isinstance(item.get("Ref"), str):
                parts.append("${" + item["Ref"] + "}")
            else:
                parts.append("?")
        return str(arg[0]).join(parts)
    return None
