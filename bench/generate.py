"""Synthetic CloudFormation templates for the benchmark.

`resources(n)` writes a template of exactly `n` resources: repeating groups of a KMS key, an S3
bucket encrypted with it, a bucket policy, an SQS queue, a Lambda function and a CloudWatch alarm,
linked by Ref, Fn::GetAtt and Fn::Sub the way real stacks are (one shared IAM role). Every group
refers only to itself and the role, so the number of references grows linearly with `n`; a
checker whose time grows faster than that is doing work per pair of resources.

`conditions(n)` writes a template with `n` independent conditions, each on its own parameter, one
bucket per condition and one bucket whose properties depend on all of them: a naive checker that
enumerates every combination would try 2**n scenarios.

Pathological shapes (bench/shapes.py times each at 1x, 2x and 4x): `scenarios(n, c)`, n
watched streams and functions whose properties and alarms depend on c conditions (2**c
scenarios); `wildcards(n)`, n policy statements with 28 wildcards before a mismatch;
`cidr(n, count)`, n subnets each selecting from a `Fn::Cidr` of `count` blocks.

Run `python bench/generate.py 500 > t.yaml`, `python bench/generate.py --conditions 30` or
`python bench/generate.py --shape wildcards 4`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

HEADER = 'AWSTemplateFormatVersion: "2010-09-09"\nDescription: synthetic benchmark template\n'

ROLE = """\
  SharedRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
"""

# One group; {i} is the group number. Each entry is one resource.
GROUP = (
    """\
  Key{i}:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub key ${{AWS::StackName}} {i}
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: Root
            Effect: Allow
            Principal: {{AWS: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root"}}
            Action: kms:*
            Resource: "*"
""",
    """\
  Bucket{i}:
    Type: AWS::S3::Bucket
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt Key{i}.Arn
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      VersioningConfiguration: {{Status: Enabled}}
      Tags:
        - {{Key: Group, Value: "g{i}"}}
""",
    """\
  BucketPolicy{i}:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket{i}
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: DenyInsecureTransport
            Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource:
              - !GetAtt Bucket{i}.Arn
              - !Sub "${{Bucket{i}.Arn}}/*"
            Condition: {{Bool: {{aws:SecureTransport: "false"}}}}
""",
    """\
  Queue{i}:
    Type: AWS::SQS::Queue
    Properties:
      KmsMasterKeyId: !Ref Key{i}
      MessageRetentionPeriod: 345600
      Tags:
        - {{Key: Bucket, Value: !Ref Bucket{i}}}
""",
    """\
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt SharedRole.Arn
      KmsKeyArn: !GetAtt Key{i}.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return event
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue{i}
          BUCKET: !Ref Bucket{i}
          TABLE_ARN: !Sub "arn:${{AWS::Partition}}:s3:::${{Bucket{i}}}/data"
""",
    """\
  Alarm{i}:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "errors of ${{Function{i}}}"
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - {{Name: FunctionName, Value: !Ref Function{i}}}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
""",
)


def resources(n: int) -> str:
    """A template of exactly `n` resources (n >= 1): the role, then groups cut to fit."""
    if n < 1:
        raise ValueError("a template needs at least one resource")
    parts = [HEADER, "Resources:\n", ROLE]
    for index in range(n - 1):
        group, member = divmod(index, len(GROUP))
        parts.append(GROUP[member].format(i=group))
    return "".join(parts) + _outputs(n)


def _outputs(n: int) -> str:
    groups = (n - 1) // len(GROUP)
    if groups == 0:
        return ""
    return (f"Outputs:\n  FirstBucketArn:\n    Value: !GetAtt Bucket0.Arn\n"
            f"  LastKeyId:\n    Value: !Ref Key{groups - 1}\n")


def conditions(n: int) -> str:
    """`n` independent conditions, one bucket each, and one bucket depending on all of them."""
    parts = [HEADER, "Parameters:\n"]
    parts += [f"  Flag{i}:\n    Type: String\n    AllowedValues: ['yes', 'no']\n"
              f"    Default: 'no'\n" for i in range(n)]
    parts.append("Conditions:\n")
    parts += [f"  On{i}: !Equals [!Ref Flag{i}, 'yes']\n" for i in range(n)]
    parts.append("Resources:\n")
    for i in range(n):
        parts.append(
            f"  Bucket{i}:\n    Type: AWS::S3::Bucket\n    Properties:\n"
            f"      VersioningConfiguration:\n"
            f"        Status: !If [On{i}, Enabled, Suspended]\n"
            f"      BucketEncryption: !If\n        - On{i}\n"
            f"        - ServerSideEncryptionConfiguration:\n"
            f"            - ServerSideEncryptionByDefault: {{SSEAlgorithm: aws:kms}}\n"
            f"        - !Ref AWS::NoValue\n")
    tags = "".join(f"        - Key: t{i}\n          Value: !If [On{i}, 'on', 'off']\n"
                   for i in range(n))
    parts.append("  Everything:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n" + tags)
    return "".join(parts)


def scenarios(watched: int, conditions: int = 6) -> str:
    """`watched` Kinesis streams and Lambda functions (half each), every resource and alarm
    depending on the same `conditions` independent conditions (2**conditions scenarios, 64 by
    default: the scenario budget). Each resource has two alarms, conditional like it. Alarm
    coverage that recomputes every variant in every scenario grows with the square of the
    scenarios; this template shows it."""
    parts = [HEADER, "Parameters:\n"]
    parts += [f"  Flag{i}:\n    Type: String\n    AllowedValues: ['yes', 'no']\n"
              f"    Default: 'no'\n" for i in range(conditions)]
    parts.append("Conditions:\n")
    parts += [f"  On{i}: !Equals [!Ref Flag{i}, 'yes']\n" for i in range(conditions)]
    parts += ["Resources:\n", ROLE]
    # Eight tags whatever the number of conditions: the template's size stays the same when
    # only the number of scenarios changes.
    tags = "".join(f"        - Key: t{i}\n          Value: !If [On{i % conditions}, 'on', 'off']\n"
                   for i in range(max(8, conditions)))
    for j in range(watched):
        if j % 2 == 0:
            name, kind = f"Stream{j}", "stream"
            parts.append(f"  {name}:\n    Type: AWS::Kinesis::Stream\n    Properties:\n"
                         f"      ShardCount: !If [On0, 2, 1]\n      Tags:\n{tags}")
            metrics = [("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName"),
                       ("AWS/Kinesis", "IncomingRecords", "StreamName")]
        else:
            name, kind = f"Function{j}", "function"
            parts.append(
                f"  {name}:\n    Type: AWS::Lambda::Function\n    Properties:\n"
                f"      Runtime: python3.12\n      Handler: index.handler\n"
                f"      Role: !GetAtt SharedRole.Arn\n"
                f"      MemorySize: !If [On0, 512, 256]\n"
                f"      Code:\n        ZipFile: 'def handler(e, c): return e'\n"
                f"      Tags:\n{tags}")
            metrics = [("AWS/Lambda", "Errors", "FunctionName"),
                       ("AWS/Lambda", "Throttles", "FunctionName")]
        for k, (namespace, metric, dimension) in enumerate(metrics):
            parts.append(
                f"  {name}Alarm{k}:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n"
                f"      AlarmDescription: !Sub '{metric} of {kind} ${{{name}}}'\n"
                f"      Namespace: {namespace}\n      MetricName: {metric}\n"
                f"      Dimensions:\n        - {{Name: {dimension}, Value: !Ref {name}}}\n"
                f"      Statistic: Sum\n      Period: 60\n"
                f"      EvaluationPeriods: !If [On{k % conditions}, 1, 5]\n"
                f"      Threshold: !If [On{(k + 1) % conditions}, 1, 10]\n"
                f"      ComparisonOperator: GreaterThanOrEqualToThreshold\n")
    return "".join(parts)


def wildcards(statements: int, stars: int = 28) -> str:
    """`statements` bucket-policy and role-policy statements whose `Action` and `Resource`
    hold `stars` wildcards before a character that never matches: a regex with `.*` per
    wildcard backtracks through every way to split the text (minutes for 28 stars); a linear
    glob matcher answers at once."""
    action = "s3:" + "*" * stars + "Z"
    resource = "arn:aws:s3:::" + "*" * stars + "Z"
    parts = [HEADER, "Resources:\n", ROLE.replace(
        "      ManagedPolicyArns:\n",
        "      Policies:\n        - PolicyName: wildcards\n          PolicyDocument:\n"
        "            Statement:\n" + "".join(
            f"              - Effect: Allow\n                Action: '{action}{i}'\n"
            f"                Resource: '{resource}{i}'\n" for i in range(statements))
        + "      ManagedPolicyArns:\n")]
    parts.append("  Bucket:\n    Type: AWS::S3::Bucket\n  BucketPolicy:\n"
                 "    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref Bucket\n"
                 "      PolicyDocument:\n        Statement:\n")
    parts += [f"          - Effect: Deny\n            Principal: '*'\n"
              f"            Action: '{action}{i}'\n            Resource: '{resource}{i}'\n"
              f"            Condition: {{Bool: {{aws:SecureTransport: 'false'}}}}\n"
              for i in range(statements)]
    return "".join(parts)


def cidr(subnets: int, count: int = 256) -> str:
    """`subnets` subnets, each picking the last block of a `Fn::Cidr` of `count` blocks.
    CloudFormation allows 1 to 256; a resolver without that cap builds whatever count it is
    given (2,000,000 took 17 s), and one that builds 256 each time still grows linearly."""
    bits = 32 - 8 - max(1, (count - 1).bit_length())  # blocks small enough for `count`
    parts = [HEADER, "Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n"
             "      CidrBlock: 10.0.0.0/8\n"]
    parts += [f"  Subnet{i}:\n    Type: AWS::EC2::Subnet\n    Properties:\n"
              f"      VpcId: !Ref Vpc\n      AvailabilityZone: eu-west-1a\n"
              f"      CidrBlock: !Select [{count - 1}, !Cidr [10.0.0.0/8, {count}, {bits}]]\n"
              for i in range(subnets)]
    return "".join(parts)


SHAPES: dict[str, Callable[[int], str]] = {
    "resources": resources, "conditions": conditions, "scenarios": scenarios,
    "wildcards": wildcards, "cidr": cidr}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of resources (or of conditions, "
                        "watched resources, policy statements, subnets: see --shape)")
    parser.add_argument("--conditions", action="store_true",
                        help="write the independent-conditions template instead")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="resources",
                        help="which template to write (default: resources)")
    args = parser.parse_args(argv)
    shape = "conditions" if args.conditions else args.shape
    sys.stdout.write(SHAPES[shape](args.count))


if __name__ == "__main__":
    main()
