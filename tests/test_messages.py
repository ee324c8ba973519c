"""Messages say what is true of the template: values known only at deployment are described,
a condition's scenario does not quote the default it excludes, one problem is one finding."""

from __future__ import annotations

from pathlib import Path

from helpers import scan_text


def _messages(tmp_path: Path, text: str, code: str) -> list[str]:
    report = scan_text(tmp_path, text, select=(code,))
    return [f.message for f in report.findings if f.code == code]


def test_an_account_from_a_mapping_is_described_not_printed_as_a_token(tmp_path: Path) -> None:
    (message,) = _messages(tmp_path, """
        Mappings:
          ElbAccounts:
            us-east-1: {Id: "127311923021"}
        Resources:
          LogWriter:
            Type: AWS::IAM::Role
            Properties:
              AssumeRolePolicyDocument:
                Statement:
                  - Effect: Allow
                    Principal: {AWS: !FindInMap [ElbAccounts, !Ref AWS::Region, Id]}
                    Action: sts:AssumeRole
    """, "XAC001")
    assert "the account from `Fn::FindInMap` over `ElbAccounts`" in message
    assert "${" not in message


def test_a_scenario_does_not_quote_the_default_its_condition_excludes(tmp_path: Path) -> None:
    (message,) = _messages(tmp_path, """
        Parameters:
          ConsumerAccount: {Type: String, Default: "000000000000"}
        Conditions:
          HasConsumer: !Not [!Equals [!Ref ConsumerAccount, "000000000000"]]
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
                    Principal:
                      AWS: !If [HasConsumer, !Sub "arn:aws:iam::${ConsumerAccount}:root",
                                !Ref AWS::AccountId]
                    Action: kms:Decrypt
                    Resource: "*"
    """, "KMS003")
    assert "000000000000" not in message
    assert "`arn:aws:iam::${ConsumerAccount}:root`" in message
    assert message.endswith("when HasConsumer is true")


ZONES_BY_CONDITION = """
    Parameters:
      Az1: {Type: String, Default: ""}
      Az2: {Type: String, Default: ""}
      Az3: {Type: String, Default: ""}
    Conditions:
      HasAz1: !Not [!Equals [!Ref Az1, ""]]
      HasAz2: !Not [!Equals [!Ref Az2, ""]]
      HasAz3: !Not [!Equals [!Ref Az3, ""]]
    Resources:
      Vpc:
        Type: AWS::EC2::VPC
        Properties: {CidrBlock: 10.0.0.0/16}
"""


def test_one_problem_in_several_scenarios_is_one_finding(tmp_path: Path) -> None:
    subnets = "".join(f"""
      Subnet{i}:
        Type: AWS::EC2::Subnet
        Condition: HasAz{i}
        Properties:
          VpcId: !Ref Vpc
          CidrBlock: 10.0.{i}.0/24
          AvailabilityZone: !Select [0, !GetAZs ""]
""" for i in (1, 2, 3))
    messages = _messages(tmp_path, ZONES_BY_CONDITION + subnets, "NET007")
    assert len(messages) == 1, messages
    assert messages[0].startswith("VPC `Vpc` has subnets in only one availability zone")
    # seven scenarios have subnets, all in zone #0: one finding says when, not seven
    assert messages[0] == ("VPC `Vpc` has subnets in only one availability zone (zone #0 of "
                           "the stack's region) unless HasAz1 is false and HasAz2 is false "
                           "and HasAz3 is false")


def test_the_alarm_in_the_wrong_namespace_is_named(tmp_path: Path) -> None:
    messages = _messages(tmp_path, """
        Resources:
          Alerts:
            Type: AWS::SNS::Topic
          Etl:
            Type: AWS::Glue::Job
            Properties:
              Role: arn:aws:iam::123456789012:role/glue
              Command: {Name: glueetl, ScriptLocation: s3://scripts-123456789012/etl.py}
          EtlFailures:
            Type: AWS::CloudWatch::Alarm
            Properties:
              Namespace: AWS/Glue
              MetricName: glue.driver.aggregate.numFailedTasks
              Dimensions:
                - {Name: JobName, Value: !Ref Etl}
              Statistic: Sum
              Period: 300
              EvaluationPeriods: 1
              Threshold: 1
              ComparisonOperator: GreaterThanOrEqualToThreshold
              AlarmActions: [!Ref Alerts]
    """, "MON005")
    assert messages and all("alarm `EtlFailures` watches" in m and "`AWS/Glue`" in m
                            for m in messages)
