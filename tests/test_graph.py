"""The resource graph: edges from every intrinsic kind, queries, cycles."""

from __future__ import annotations

from helpers import template_from

from cfnaudit.graph import ResourceGraph

TEMPLATE = """
Parameters:
  Env: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Resources:
  Key:
    Type: AWS::KMS::Key
  Bucket:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Properties:
      BucketName: !Sub "data-${Env}-${AWS::Region}"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt Key.Arn
  Policy:
    Type: AWS::S3::BucketPolicy
    DependsOn: [Key]
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:PutObject
            Resource: !Sub "${Bucket.Arn}/*"
          - !If [IsProd, {Effect: Allow}, !Ref AWS::NoValue]
          - Resource: !Sub ["${B}/${!Literal}", {B: !GetAtt Bucket.Arn}]
Outputs:
  BucketName:
    Value: !Ref Bucket
"""


def _edges(graph: ResourceGraph, source: str) -> set[tuple[str, str, str | None, tuple]]:
    return {(e.kind, e.target_id, e.attribute, e.path[2:])
            for e in graph.targets(source, section="Resources")}


def test_edges_from_each_intrinsic_kind_with_paths() -> None:
    graph = ResourceGraph(template_from(TEMPLATE))
    assert _edges(graph, "Policy") == {
        ("DependsOn", "Key", None, ("DependsOn", 0)),
        ("Ref", "Bucket", None, ("Properties", "Bucket")),
        ("Sub", "Bucket", "Arn",
         ("Properties", "PolicyDocument", "Statement", 0, "Resource")),
        ("GetAtt", "Bucket", "Arn",
         ("Properties", "PolicyDocument", "Statement", 2, "Resource", "Fn::Sub", 1, "B")),
    }
    assert _edges(graph, "Bucket") == {
        ("GetAtt", "Key", "Arn", ("Properties", "BucketEncryption",
                                  "ServerSideEncryptionConfiguration", 0,
                                  "ServerSideEncryptionByDefault", "KMSMasterKeyID")),
    }


def test_parameter_and_condition_edges() -> None:
    graph = ResourceGraph(template_from(TEMPLATE))
    assert graph.parameters_at(graph.template.resources["Bucket"], "Properties") == ["Env"]
    conditions = {(e.kind, e.target_id) for e in graph.targets("Bucket", section="Conditions")}
    assert conditions == {("Condition", "IsProd")}
    # Fn::If inside properties records the condition as used by the resource's values.
    assert graph.conditions_used == {"Policy": {"IsProd"}}
    assert graph.uses_no_value == {"Policy"}
    assert [(e.source, e.target_id) for e in graph.output_edges()] == [
        (("Outputs", "BucketName"), "Bucket")]


def test_sub_literals_and_locals_are_not_references() -> None:
    graph = ResourceGraph(template_from("""
        Resources:
          A:
            Type: AWS::SNS::Topic
            Properties:
              TopicName: !Sub ["${!NotARef}-${Local}-${AWS::StackName}", {Local: x}]
    """))
    assert graph.targets("A") == []
    assert graph.dangling == []


def test_referrer_queries_filter_by_type_kind_and_path() -> None:
    graph = ResourceGraph(template_from(TEMPLATE))
    assert {e.source_id for e in graph.referrers("Bucket")} == {"Policy"}
    assert graph.referrers("Bucket", types=["AWS::SQS::Queue"]) == []
    assert [e.kind for e in graph.referrers("Bucket", under=("Properties", "Bucket"))] == ["Ref"]
    assert {e.kind for e in graph.referrers("Bucket", kinds=["Sub"])} == {"Sub"}
    bucket = graph.template.resources["Bucket"]
    assert [r.logical_id for r in graph.targets_at(bucket, "Properties")] == ["Key"]
    assert [r.logical_id for r in graph.referring_resources("Key")] == ["Bucket", "Policy"]


def test_networkx_view_has_every_node_and_edge() -> None:
    graph = ResourceGraph(template_from(TEMPLATE))
    nx_graph = graph.nx
    assert ("Resources", "Bucket") in nx_graph
    assert nx_graph.nodes[("Resources", "Bucket")]["type"] == "AWS::S3::Bucket"
    assert ("Parameters", "Env") in nx_graph and ("Outputs", "BucketName") in nx_graph
    kinds = sorted(d["kind"] for _, _, d in nx_graph.out_edges(("Resources", "Policy"),
                                                               data=True))
    assert kinds == ["Condition", "DependsOn", "GetAtt", "Ref", "Sub"]


def test_cycles_are_found_and_named() -> None:
    graph = ResourceGraph(template_from("""
        Resources:
          A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt B.QueueName}}
          B: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub "${C}"}}
          C: {Type: AWS::SQS::Queue, DependsOn: A}
          D: {Type: AWS::SQS::Queue, DependsOn: D}
          E: {Type: AWS::SQS::Queue, Properties: {QueueName: !Ref A}}
    """))
    assert graph.resource_cycles() == [["A", "B", "C", "A"], ["D", "D"]]


def test_acyclic_graph_has_no_cycles() -> None:
    assert ResourceGraph(template_from(TEMPLATE)).resource_cycles() == []


def test_dangling_and_malformed_references_are_collected() -> None:
    graph = ResourceGraph(template_from("""
        Resources:
          A:
            Type: AWS::SQS::Queue
            DependsOn: Missing
            Properties:
              QueueName: !GetAtt [B, QueueName, Extra]
              Tags: !If [OnlyTwo, x]
              Other: !Sub {not: a string}
              Name: !Ref Nowhere
    """))
    assert sorted(d.message for d in graph.dangling) == [
        "DependsOn to undefined resource `Missing`",
        "Ref to undefined resource or parameter `Nowhere`",
    ]
    assert sorted(m.message.split("`")[1] for m in graph.malformed) == [
        "Fn::GetAtt", "Fn::If", "Fn::Sub"]


def test_transforms_make_unknown_names_lenient() -> None:
    graph = ResourceGraph(template_from("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          A:
            Type: AWS::SQS::Queue
            Properties: {QueueName: !Ref ServerlessRestApi}
    """))
    assert graph.dangling == []


def test_sam_event_wiring_does_not_make_a_cycle() -> None:
    graph = ResourceGraph(template_from("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties:
              DefinitionBody: {uri: !Sub "${Handler.Arn}"}
          Handler:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Get: {Type: Api, Properties: {RestApiId: !Ref Api}}
          Loop:
            Type: AWS::Serverless::Function
            Properties:
              Environment: {Variables: {SELF: !Ref Loop}}
    """))
    assert graph.resource_cycles() == [["Loop", "Loop"]]


def test_cycle_groups_name_every_member() -> None:
    graph = ResourceGraph(template_from("""
        Resources:
          A: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt B.QueueName}, DependsOn: C}
          B: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt A.QueueName}}
          C: {Type: AWS::SQS::Queue, Properties: {QueueName: !GetAtt A.QueueName}}
    """))
    ((cycle, members),) = graph.cycle_groups()
    assert len(cycle) == 3 and cycle[0] == cycle[-1] == "A"  # one of the two loops through A
    assert members == ["A", "B", "C"]


def test_the_cycle_named_does_not_depend_on_set_order() -> None:
    # Hub needs six queues that all need Hub: the cycle named (and so the place reported) is
    # the same in every process, whatever the hash seed that orders sets.
    names = ["Fox", "Echo", "Delta", "Charlie", "Bravo", "Alpha"]
    spokes = "".join(f"""
          {n}:
            Type: AWS::SQS::Queue
            DependsOn: Hub""" for n in names)
    graph = ResourceGraph(template_from(f"""
        Resources:
          Hub:
            Type: AWS::SQS::Queue
            DependsOn: [{", ".join(names)}]{spokes}
    """))
    [(cycle, members)] = graph.cycle_groups()
    assert cycle == ["Alpha", "Hub", "Alpha"]
    assert members == sorted([*names, "Hub"])


def test_sam_api_endpoint_name_does_not_order_the_api() -> None:
    graph = ResourceGraph(template_from("""
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties:
              StageName: prod
              EndpointConfiguration: {Type: REGIONAL, Name: !Ref Api}
    """))
    assert graph.resource_cycles() == []
