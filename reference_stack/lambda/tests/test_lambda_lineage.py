import json
from datetime import UTC, datetime

import lineage

NOW = datetime(2024, 3, 1, tzinfo=UTC)


def s3_notification(key, event="ObjectCreated:Put"):
    return {"Records": [{"eventName": event, "eventTime": "2024-03-01T00:00:01Z",
                         "s3": {"bucket": {"name": "processed"},
                                "object": {"key": key, "size": 42, "versionId": "v1"}}}]}


def test_partitions_from_key():
    assert lineage.partitions("curated/event_date=2024-03-01/record_type=trade/p.parquet") == {
        "event_date": "2024-03-01", "record_type": "trade"}
    assert lineage.partitions("p.parquet") == {}


def test_lineage_items_skip_non_create_events_and_set_ttl():
    key = "curated/event_date%3D2024-03-01/part.parquet"
    items = lineage.lineage_items(s3_notification(key), NOW, 7)
    assert items[0]["pk"] == "object#s3://processed/curated/event_date=2024-03-01/part.parquet"
    assert items[0]["partitions"] == {"event_date": "2024-03-01"}
    assert items[0]["expires_at"] == int(NOW.timestamp()) + 7 * 86400
    assert lineage.lineage_items(s3_notification(key, "ObjectRemoved:Delete"), NOW, 7) == []
    assert lineage.lineage_items({"Event": "s3:TestEvent"}, NOW, 7) == []


class Table:
    def __init__(self):
        self.items = []

    def put_item(self, Item):  # boto3's keyword
        self.items.append(Item)


def test_process_reports_only_failed_messages():
    event = {"Records": [
        {"messageId": "m1", "body": json.dumps(s3_notification("a/b.parquet"))},
        {"messageId": "m2", "body": "not json"},
    ]}
    table = Table()
    result = lineage.process(event, table, NOW, 7)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert len(table.items) == 1
