"""Glue ETL job: raw market-data JSON lines to Parquet partitioned by date.

Reads the raw table (partitioned dt/hour) with job bookmarks, so each run only
processes new objects; writes Parquet to the processed bucket partitioned by
event_date and record_type, keeps a compressed copy of the raw records in the
archive bucket, and records the run in the job-runs DynamoDB table.
"""
import sys
from datetime import datetime, timedelta, timezone

import boto3
from awsglue.context import GlueContext
from awsglue.dynamicframe import DynamicFrame
from awsglue.job import Job
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext
from pyspark.sql import functions as F

ARGS = getResolvedOptions(
    sys.argv,
    ["JOB_NAME", "JOB_RUN_ID", "database", "raw_table", "processed_path", "archive_path",
     "job_runs_table", "job_runs_ttl_days", "partition_keys"],
)
UTC = timezone.utc  # noqa: UP017 - Glue 4.0 runs Python 3.10 (no datetime.UTC)
RECORD_TYPES = ("trade", "order_book", "market_depth")
PARTITION_KEYS = ARGS["partition_keys"].split(",")  # event_date,record_type


def record_run(status, run_id, started, records=0):
    expires = datetime.now(UTC) + timedelta(days=int(ARGS["job_runs_ttl_days"]))
    ttl = int(expires.timestamp())
    boto3.resource("dynamodb").Table(ARGS["job_runs_table"]).put_item(Item={
        "job_name": ARGS["JOB_NAME"], "run_id": run_id, "status": status,
        "started_at": started, "updated_at": datetime.now(UTC).isoformat(),
        "records": records, "expires_at": ttl,
    })


sc = SparkContext.getOrCreate()
glue_context = GlueContext(sc)
spark = glue_context.spark_session
job = Job(glue_context)
job.init(ARGS["JOB_NAME"], ARGS)
run_id = ARGS["JOB_RUN_ID"]
started_at = datetime.now(UTC).isoformat()
record_run("RUNNING", run_id, started_at)

try:
    raw = glue_context.create_dynamic_frame.from_catalog(
        database=ARGS["database"], table_name=ARGS["raw_table"],
        transformation_ctx="raw_market_events",
    )
    df = raw.toDF()
    count = df.count()
    if count:
        curated = (
            df.filter(F.col("record_type").isin(*RECORD_TYPES))
            .withColumn("event_ts", F.to_timestamp("timestamp"))
            .filter(F.col("event_ts").isNotNull())
            .withColumn("event_date", F.date_format("event_ts", "yyyy-MM-dd"))
            .drop("dt", "hour")
        )
        (curated.repartition(*PARTITION_KEYS)
            .write.mode("append")
            .partitionBy(*PARTITION_KEYS)
            .option("compression", "snappy")
            .parquet(ARGS["processed_path"]))
        archive = DynamicFrame.fromDF(df, glue_context, "archive")
        glue_context.write_dynamic_frame.from_options(
            frame=archive, connection_type="s3", format="json",
            connection_options={"path": ARGS["archive_path"], "partitionKeys": ["dt"],
                                "compression": "gzip"},
            transformation_ctx="archive_copy",
        )
    job.commit()
    record_run("SUCCEEDED", run_id, started_at, count)
except Exception:
    record_run("FAILED", run_id, started_at)
    raise
