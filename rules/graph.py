"""Rules about the resource graph as a whole."""

from collections.abc import Iterator

from cfnaudit.rule import Context, Severity, Violation, rule


@rule(code="GRF001", name="resource-dependency-cycle", severity=Severity.ERROR,
      category="dependency-cycle")
def dependency_cycle(ctx: Context) -> Iterator[Violation]:
    """Resources depend on each other in a cycle.

    ## What it does
    Follows every `Ref`, `Fn::GetAtt`, `Fn::Sub` reference and `DependsOn` between resources
    and reports each group of resources that depend on each other in a circle, naming the
    cycle. The finding sits on the reference that leaves the first resource of the cycle.

    ## Why is this bad?
    CloudFormation refuses to create or update a stack with a circular dependency
    ("Circular dependency between resources"). The classic case in data pipelines is a bucket
    whose `NotificationConfiguration` names a function, while the function's invoke permission
    (or its role policy) refers back to the bucket's ARN.

    ## Example
    ```yaml
    Resources:
      Bucket:
        Type: AWS::S3::Bucket
        Properties:
          NotificationConfiguration:
            LambdaConfigurations:
              - Event: s3:ObjectCreated:*
                Function: !GetAtt Validator.Arn
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
          Environment:
            Variables:
              BUCKET: !Ref Bucket
    ```

    ## Use instead
    ```yaml
    Resources:
      Bucket:
        Type: AWS::S3::Bucket
        Properties:
          BucketName: !Sub raw-${AWS::AccountId}-${AWS::Region}
          NotificationConfiguration:
            LambdaConfigurations:
              - Event: s3:ObjectCreated:*
                Function: !GetAtt Validator.Arn
      Validator:
        Type: AWS::Lambda::Function
        Properties:
          Runtime: python3.12
          Handler: index.handler
          Role: arn:aws:iam::123456789012:role/validator
          Code: {ZipFile: "def handler(e, c): pass"}
          Environment:
            Variables:
              BUCKET: !Sub raw-${AWS::AccountId}-${AWS::Region}
    ```

    ## References
    - [Resolve circular dependency errors (AWS Knowledge Center)](https://repost.aws/knowledge-center/cloudformation-circular-dependency-lambda)
    - [DependsOn attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html)
    """
    for resource in ctx.resources(*{r.type for r in ctx.template.resources.values()}):
        ctx.examine(resource)
    for cycle, members in ctx.graph.cycle_groups():
        first, second = cycle[0], cycle[1]
        edge = next(e for e in ctx.graph.targets(first) if e.target_id == second)
        chain = " → ".join(f"`{name}`" for name in cycle)
        others = [f"`{name}`" for name in members if name not in cycle]
        verb = "is" if len(others) == 1 else "are"
        also = f"; {', '.join(others)} {verb} caught in the same loop" if others else ""
        yield Violation(f"dependency cycle {chain}: CloudFormation cannot order these "
                        f"resources{also}", edge.path, key=",".join(members))
