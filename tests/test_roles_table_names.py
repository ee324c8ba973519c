"""What a table's own name says it keeps (cfnaudit/roles.py): a results or data store whose key
happens to name an execution, and websocket connection-id tables with or without a TTL."""

from __future__ import annotations

import pytest
from helpers import context_from

from cfnaudit.roles import holds_passing_records, is_connection_table, named_as_results
from cfnaudit.rule import Context

TABLES = """
Parameters:
  Environment: {Type: String, Default: dev}
Resources:
  ProcessedDataTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${Environment}-processed-data"
      KeySchema: [{AttributeName: execution_id, KeyType: HASH}]
  Store:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: job-results
      KeySchema: [{AttributeName: runId, KeyType: HASH}]
  ExecutionResults:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  ConnectionMappingTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: connectionId, KeyType: HASH}]
  Mapping:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: connectionId, KeyType: HASH}]
  ChatData:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: connectionId, KeyType: HASH}]
  Sessions:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: sessionId, KeyType: HASH}]
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: orderId, KeyType: HASH}]
"""


def _context() -> Context:
    return context_from(TABLES)


@pytest.mark.parametrize(("table", "results", "passing_by_key", "connection"), [
    ("ProcessedDataTable", True, True, False),  # the name outweighs `execution_id`
    ("Store", True, True, False),  # `job-results`, keyed by a run
    ("ExecutionResults", False, True, False),  # a passing word in the name wins
    ("ConnectionMappingTable", False, True, True),  # no TTL needed to be ephemeral
    ("Mapping", False, True, True),  # the key alone says connection
    ("ChatData", True, True, False),  # named a data store
    ("Sessions", False, True, False),  # a session may keep a conversation: data
    ("Orders", False, False, False),
])
def test_what_the_name_says(table: str, results: bool, passing_by_key: bool,
                            connection: bool) -> None:
    ctx = _context()
    resource = ctx.template.resources[table]
    assert named_as_results(ctx, resource) is results
    assert holds_passing_records(ctx, resource) is passing_by_key
    assert is_connection_table(ctx, resource) is connection
