"""boto3 acceptance suite for doppel.

Drives every ML-transform, tagging and Data Catalog operation doppel implements through an unmodified
boto3 client, pointed at the server with ``endpoint_url``. Checks what a boto3 user depends on: results
parse (timestamps become datetimes), errors surface as ``botocore.exceptions.ClientError`` with the
right ``Error.Code``, HTTP 400 and a request id, and client errors are never retried.

Environment:
  DOPPEL_ENDPOINT          server URL, e.g. http://127.0.0.1:4566 (required; the suite skips without it)
  DOPPEL_ACCOUNT_ID        account the ``test``/``test`` credentials map to (default 123456789012)
  DOPPEL_TIMEOUT_UNIT_MS   set to the server's value to enable the TIMEOUT test

The server must run with scripted task runs (``DOPPEL_SCRIPTED_TASKS=1``): task outcomes are chosen
through the query string of the S3 path, e.g. ``s3://scripted/x?outcome=hang``.

Run from this directory (``test`` is also the name of a stdlib package, so not from the repo root):
  cd test/python && DOPPEL_ENDPOINT=http://127.0.0.1:PORT python3 -m unittest -v test_glue_boto3
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import unittest
import uuid

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError, ParamValidationError
except ImportError:  # pragma: no cover - reported as a skip
    boto3 = None

ENDPOINT = os.environ.get("DOPPEL_ENDPOINT", "")
ACCOUNT = os.environ.get("DOPPEL_ACCOUNT_ID", "123456789012")
REGION = "us-east-1"
TIMEOUT_UNIT_MS = os.environ.get("DOPPEL_TIMEOUT_UNIT_MS")

TERMINAL = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"}
ACTIVE = {"STARTING", "RUNNING", "STOPPING"}
MISSING_TRANSFORM = "tfm-" + "0" * 40
MISSING_RUN = "tsk-" + "0" * 40
TRANSFORM_ID_RE = re.compile(r"^tfm-[0-9a-f]{40}$")
TASK_RUN_ID_RE = re.compile(r"^tsk-[0-9a-f]{40}$")

# Columns of the fixture table, and the Schema the transform must derive from them (columns, then
# partition keys, in order).
COLUMNS = [
    {"Name": "id", "Type": "string"},
    {"Name": "full_name", "Type": "string"},
    {"Name": "email", "Type": "string"},
    {"Name": "age", "Type": "int"},
]
PARTITION_KEYS = [{"Name": "source", "Type": "string"}]
EXPECTED_SCHEMA = [{"Name": c["Name"], "DataType": c["Type"]} for c in COLUMNS + PARTITION_KEYS]


def setUpModule():
    if boto3 is None:
        raise unittest.SkipTest("boto3 not installed: apt-get install python3-boto3 (or pip install boto3)")
    if not ENDPOINT:
        raise unittest.SkipTest("DOPPEL_ENDPOINT is not set: start `doppel serve` and point DOPPEL_ENDPOINT at it")


def suffix() -> str:
    return uuid.uuid4().hex[:12]


def make_client(
    region: str = REGION,
    validate: bool = True,
    access_key: str = "test",
    secret_key: str = "test",
    retries: dict | None = None,
):
    config = Config(
        parameter_validation=validate,
        retries=retries or {"mode": "standard", "max_attempts": 3},
        connect_timeout=5,
        read_timeout=30,
    )
    return boto3.session.Session().client(
        "glue",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


def transform_arn(transform_id: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:glue:{region}:{account}:mlTransform/{transform_id}"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class GlueTestCase(unittest.TestCase):
    """Shared fixture: one database with one table that transforms are created on."""

    glue = None
    raw = None  # parameter_validation=False: lets bad input reach the server
    database = ""
    table = ""

    @classmethod
    def setUpClass(cls):
        cls.glue = make_client()
        cls.raw = make_client(validate=False)
        cls.database = f"db_{suffix()}"
        cls.table = "people"
        cls.glue.create_database(DatabaseInput={"Name": cls.database, "Description": "boto3 suite"})
        cls.create_fixture_table(cls.database, cls.table)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.glue.delete_database(Name=cls.database)
        except Exception:  # noqa: BLE001 - best effort
            pass

    @classmethod
    def create_fixture_table(cls, database, name, columns=None):
        cls.glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "csv"},
                "StorageDescriptor": {
                    "Columns": columns or COLUMNS,
                    "Location": f"s3://bucket/{database}/{name}/",
                    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde"},
                },
                "PartitionKeys": [] if columns else PARTITION_KEYS,
            },
        )

    # --- helpers -----------------------------------------------------------------------------------

    def assertClientError(self, code, fn, **kwargs):
        """Calls fn(**kwargs), expecting a ClientError with the given code, HTTP 400, a request id
        and no retries. Returns the error response."""
        with self.assertRaises(ClientError, msg=f"expected {code}") as cm:
            fn(**kwargs)
        resp = cm.exception.response
        meta = resp.get("ResponseMetadata", {})
        self.assertEqual(resp["Error"]["Code"], code, msg=f"{resp['Error']!r}")
        self.assertEqual(meta.get("HTTPStatusCode"), 400, msg=f"{code}: {resp['Error']!r}")
        self.assertTrue(meta.get("RequestId"), msg=f"no RequestId in {meta!r}")
        self.assertEqual(meta.get("RetryAttempts", 0), 0, msg="client errors must not be retried")
        self.assertIsInstance(resp["Error"].get("Message"), str)
        return resp

    def assertRecent(self, value, slack_seconds=600):
        self.assertIsInstance(value, dt.datetime)
        self.assertIsNotNone(value.tzinfo, "timestamps must be timezone-aware datetimes")
        delta = abs((now_utc() - value).total_seconds())
        self.assertLess(delta, slack_seconds, msg=f"{value} is not close to now")

    def create_transform(self, name=None, table=None, cleanup=True, **overrides):
        params = {
            "Name": name or f"xf-{suffix()}",
            "InputRecordTables": [{"DatabaseName": self.database, "TableName": table or self.table}],
            "Parameters": {
                "TransformType": "FIND_MATCHES",
                "FindMatchesParameters": {"PrimaryKeyColumnName": "id"},
            },
            "Role": "arn:aws:iam::123456789012:role/GlueRole",
        }
        params.update(overrides)
        transform_id = self.glue.create_ml_transform(**params)["TransformId"]
        if cleanup:
            self.addCleanup(self.delete_quietly, transform_id)
        return transform_id

    def delete_quietly(self, transform_id):
        try:
            self.glue.delete_ml_transform(TransformId=transform_id)
        except ClientError:
            pass

    def wait_for_run(self, transform_id, run_id, timeout=20.0, until=TERMINAL):
        deadline = time.monotonic() + timeout
        while True:
            run = self.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
            if run["Status"] in until:
                return run
            if time.monotonic() > deadline:
                self.fail(f"task run {run_id} still {run['Status']} after {timeout}s")
            time.sleep(0.05)

    def import_labels(self, transform_id, count, replace=None):
        kwargs = {"TransformId": transform_id, "InputS3Path": f"s3://scripted/labels.csv?labels={count}"}
        if replace is not None:
            kwargs["ReplaceAllLabels"] = replace
        run_id = self.glue.start_import_labels_task_run(**kwargs)["TaskRunId"]
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED", msg=run.get("ErrorString"))
        return run_id

    def start_hanging_run(self, transform_id):
        run_id = self.glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=f"s3://scripted/out-{suffix()}?outcome=hang"
        )["TaskRunId"]
        self.addCleanup(self.cancel_quietly, transform_id, run_id)
        return run_id

    def cancel_quietly(self, transform_id, run_id):
        try:
            self.glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        except ClientError:
            pass

    def all_transform_ids(self, client=None, **kwargs):
        client = client or self.glue
        ids, token = [], None
        while True:
            page = client.list_ml_transforms(**kwargs, **({"NextToken": token} if token else {}))
            ids.extend(page["TransformIds"])
            token = page.get("NextToken")
            if not token:
                return ids

    def capture_bodies(self, client, operation):
        """Records the JSON bodies botocore sends for an operation."""
        bodies = []

        def hook(request, **_):
            body = request.body
            if isinstance(body, bytes):
                body = body.decode("utf-8")
            bodies.append(json.loads(body or "{}"))

        client.meta.events.register(f"before-send.glue.{operation}", hook)
        self.addCleanup(client.meta.events.unregister, f"before-send.glue.{operation}", hook)
        return bodies


# ==================================================================================================
# Data Catalog subset
# ==================================================================================================


class CatalogDatabaseTest(GlueTestCase):
    def test_create_and_get_database(self):
        name = f"db_{suffix()}"
        resp = self.glue.create_database(
            DatabaseInput={"Name": name, "Description": "hello", "Parameters": {"k": "v"}}
        )
        self.addCleanup(self.glue.delete_database, Name=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(resp["ResponseMetadata"]["RequestId"])
        db = self.glue.get_database(Name=name)["Database"]
        self.assertEqual(db["Name"], name)
        self.assertEqual(db["Description"], "hello")
        self.assertEqual(db["Parameters"], {"k": "v"})
        self.assertEqual(db.get("CatalogId"), ACCOUNT)
        self.assertRecent(db["CreateTime"])

    def test_database_names_are_folded_to_lower_case(self):
        name = f"MixedCase_{suffix()}"
        self.glue.create_database(DatabaseInput={"Name": name})
        self.addCleanup(self.glue.delete_database, Name=name.lower())
        self.assertEqual(self.glue.get_database(Name=name.lower())["Database"]["Name"], name.lower())
        self.assertEqual(self.glue.get_database(Name=name.upper())["Database"]["Name"], name.lower())

    def test_create_database_duplicate_is_already_exists(self):
        self.assertClientError(
            "AlreadyExistsException", self.glue.create_database, DatabaseInput={"Name": self.database}
        )

    def test_get_database_missing_is_entity_not_found(self):
        self.assertClientError("EntityNotFoundException", self.glue.get_database, Name=f"nope_{suffix()}")

    def test_get_databases_paginates_with_boto3_paginator(self):
        names = sorted(f"pg_{suffix()}" for _ in range(3))
        for name in names:
            self.glue.create_database(DatabaseInput={"Name": name})
            self.addCleanup(self.glue.delete_database, Name=name)
        first = self.glue.get_databases(MaxResults=1)
        self.assertEqual(len(first["DatabaseList"]), 1)
        self.assertIn("NextToken", first)
        seen = []
        for page in self.glue.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 1}):
            self.assertLessEqual(len(page["DatabaseList"]), 1)
            seen.extend(d["Name"] for d in page["DatabaseList"])
        self.assertEqual(len(seen), len(set(seen)), "pages must not repeat databases")
        for name in names + [self.database]:
            self.assertIn(name, seen)

    def test_get_databases_last_page_has_no_next_token(self):
        resp = self.glue.get_databases(MaxResults=100)
        self.assertIsInstance(resp["DatabaseList"], list)
        if len(resp["DatabaseList"]) < 100:
            self.assertNotIn("NextToken", resp)

    def test_get_databases_max_results_out_of_range(self):
        # botocore checks only the minimum: 101 reaches the server, 0 never leaves the client.
        self.assertClientError("ValidationException", self.glue.get_databases, MaxResults=101)
        with self.assertRaises(ParamValidationError):
            self.glue.get_databases(MaxResults=0)
        self.assertClientError("ValidationException", self.raw.get_databases, MaxResults=0)

    def test_create_database_constraint_violations_are_validation_exceptions(self):
        self.assertClientError(
            "ValidationException", self.glue.create_database, DatabaseInput={"Name": "x" * 256}
        )
        self.assertClientError(
            "ValidationException", self.glue.create_database, DatabaseInput={"Name": "bad\nname"}
        )
        with self.assertRaises(ParamValidationError):
            self.glue.create_database(DatabaseInput={"Name": ""})
        self.assertClientError("ValidationException", self.raw.create_database, DatabaseInput={"Name": ""})
        self.assertClientError("ValidationException", self.raw.create_database)

    def test_delete_database(self):
        name = f"del_{suffix()}"
        self.glue.create_database(DatabaseInput={"Name": name})
        resp = self.glue.delete_database(Name=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertClientError("EntityNotFoundException", self.glue.get_database, Name=name)
        self.assertClientError("EntityNotFoundException", self.glue.delete_database, Name=name)

    def test_delete_database_deletes_its_tables(self):
        name = f"cascade_{suffix()}"
        self.glue.create_database(DatabaseInput={"Name": name})
        self.create_fixture_table(name, "t1")
        self.glue.delete_database(Name=name)
        self.assertClientError("EntityNotFoundException", self.glue.get_table, DatabaseName=name, Name="t1")
        self.glue.create_database(DatabaseInput={"Name": name})
        self.addCleanup(self.glue.delete_database, Name=name)
        self.assertEqual(self.glue.get_tables(DatabaseName=name)["TableList"], [])

    def test_update_database_replaces_the_definition(self):
        name = f"upd_{suffix()}"
        self.glue.create_database(DatabaseInput={"Name": name, "Description": "before", "Parameters": {"k": "v"}})
        self.addCleanup(self.glue.delete_database, Name=name)
        created = self.glue.get_database(Name=name)["Database"]["CreateTime"]
        resp = self.glue.update_database(
            Name=name, CatalogId=ACCOUNT, DatabaseInput={"Name": name, "Description": "desc", "LocationUri": "s3://b/x/"}
        )
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        db = self.glue.get_database(Name=name)["Database"]
        self.assertEqual((db["Description"], db["LocationUri"], db["CreateTime"]), ("desc", "s3://b/x/", created))
        self.assertNotIn("Parameters", db)

    def test_update_unknown_or_renamed_database(self):
        missing = f"nope_{suffix()}"
        self.assertClientError(
            "EntityNotFoundException", self.glue.update_database, Name=missing, DatabaseInput={"Name": missing}
        )
        self.assertClientError(
            "InvalidInputException", self.glue.update_database, Name=self.database, DatabaseInput={"Name": missing}
        )


class ListAndBatchGetJobsTest(GlueTestCase):
    def create_job(self, **extra) -> str:
        name = f"job_{suffix()}"
        self.glue.create_job(Name=name, Role="arn:aws:iam::123456789012:role/GlueRole",
                             Command={"Name": "findmatches"}, **extra)
        self.addCleanup(self.glue.delete_job, JobName=name)
        return name

    def test_list_jobs_pages_and_filters_by_tags(self):
        names = [self.create_job() for _ in range(3)]
        tag = suffix()
        tagged = self.create_job(Tags={"team": tag})
        seen = []
        for page in self.glue.get_paginator("list_jobs").paginate(PaginationConfig={"PageSize": 1}):
            self.assertLessEqual(len(page["JobNames"]), 1)
            seen.extend(page["JobNames"])
        self.assertEqual(seen, sorted(set(seen)))
        for name in names + [tagged]:
            self.assertIn(name, seen)
        first = self.glue.list_jobs(MaxResults=2)
        self.assertEqual(len(first["JobNames"]), 2)
        rest = self.glue.list_jobs(NextToken=first["NextToken"])
        self.assertEqual(first["JobNames"] + rest["JobNames"], seen)
        self.assertNotIn("NextToken", rest)
        self.assertEqual(self.glue.list_jobs(Tags={"team": tag})["JobNames"], [tagged])
        self.glue.untag_resource(ResourceArn=f"arn:aws:glue:{REGION}:{ACCOUNT}:job/{tagged}", TagsToRemove=["team"])
        self.assertEqual(self.glue.list_jobs(Tags={"team": tag})["JobNames"], [])

    def test_batch_get_jobs(self):
        name = self.create_job(Description="found")
        missing = f"job_{suffix()}"
        resp = self.glue.batch_get_jobs(JobNames=[name, missing])
        self.assertEqual([(j["Name"], j["Description"]) for j in resp["Jobs"]], [(name, "found")])
        self.assertEqual(resp["JobsNotFound"], [missing])


class CatalogTableTest(GlueTestCase):
    def test_create_and_get_table(self):
        table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        self.assertEqual(table["Name"], self.table)
        self.assertEqual(table["DatabaseName"], self.database)
        self.assertEqual(table["StorageDescriptor"]["Columns"], COLUMNS)
        self.assertEqual(table["PartitionKeys"], PARTITION_KEYS)
        self.assertEqual(table["TableType"], "EXTERNAL_TABLE")
        self.assertEqual(table["Parameters"], {"classification": "csv"})
        self.assertEqual(table.get("CatalogId"), ACCOUNT)
        self.assertRecent(table["CreateTime"])
        self.assertIn("VersionId", table)

    def test_table_names_are_folded_to_lower_case(self):
        name = f"Upper_{suffix()}"
        self.create_fixture_table(self.database, name)
        table = self.glue.get_table(DatabaseName=self.database.upper(), Name=name.upper())["Table"]
        self.assertEqual(table["Name"], name.lower())

    def test_create_table_duplicate_is_already_exists(self):
        self.assertClientError(
            "AlreadyExistsException",
            self.glue.create_table,
            DatabaseName=self.database,
            TableInput={"Name": self.table},
        )

    def test_create_table_in_missing_database_is_entity_not_found(self):
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.create_table,
            DatabaseName=f"nope_{suffix()}",
            TableInput={"Name": "t"},
        )

    def test_create_table_constraint_violation_is_validation_exception(self):
        self.assertClientError(
            "ValidationException",
            self.glue.create_table,
            DatabaseName=self.database,
            TableInput={"Name": "x" * 256},
        )
        self.assertClientError(
            "ValidationException",
            self.glue.create_table,
            DatabaseName=self.database,
            TableInput={
                "Name": f"t_{suffix()}",
                "StorageDescriptor": {"Columns": [{"Name": "c", "Type": "string", "Comment": "a\nb"}]},
            },
        )

    def test_get_table_missing(self):
        self.assertClientError(
            "EntityNotFoundException", self.glue.get_table, DatabaseName=self.database, Name="nope"
        )
        self.assertClientError(
            "EntityNotFoundException", self.glue.get_table, DatabaseName=f"nope_{suffix()}", Name="nope"
        )

    def test_get_tables_expression_and_paginator(self):
        db = f"tables_{suffix()}"
        self.glue.create_database(DatabaseInput={"Name": db})
        self.addCleanup(self.glue.delete_database, Name=db)
        for name in ("alpha_one", "alpha_two", "beta_one"):
            self.create_fixture_table(db, name)
        names = [t["Name"] for t in self.glue.get_tables(DatabaseName=db)["TableList"]]
        self.assertEqual(sorted(names), ["alpha_one", "alpha_two", "beta_one"])
        alpha = [t["Name"] for t in self.glue.get_tables(DatabaseName=db, Expression="alpha*")["TableList"]]
        self.assertEqual(sorted(alpha), ["alpha_one", "alpha_two"])
        paged = []
        for page in self.glue.get_paginator("get_tables").paginate(
            DatabaseName=db, PaginationConfig={"PageSize": 1}
        ):
            self.assertLessEqual(len(page["TableList"]), 1)
            paged.extend(t["Name"] for t in page["TableList"])
        self.assertEqual(sorted(paged), ["alpha_one", "alpha_two", "beta_one"])

    def test_get_tables_errors(self):
        self.assertClientError("EntityNotFoundException", self.glue.get_tables, DatabaseName=f"nope_{suffix()}")
        self.assertClientError(
            "ValidationException", self.glue.get_tables, DatabaseName=self.database, MaxResults=101
        )

    def test_update_table_bumps_version(self):
        name = f"upd_{suffix()}"
        self.create_fixture_table(self.database, name)
        before = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        new_columns = COLUMNS + [{"Name": "phone", "Type": "string"}]
        resp = self.glue.update_table(
            DatabaseName=self.database,
            TableInput={
                "Name": name,
                "Description": "updated",
                "StorageDescriptor": {"Columns": new_columns, "Location": "s3://bucket/new/"},
            },
        )
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        after = self.glue.get_table(DatabaseName=self.database, Name=name)["Table"]
        self.assertEqual(after["Description"], "updated")
        self.assertEqual(after["StorageDescriptor"]["Columns"], new_columns)
        self.assertNotEqual(after["VersionId"], before["VersionId"])
        if before["VersionId"].isdigit() and after["VersionId"].isdigit():
            self.assertGreater(int(after["VersionId"]), int(before["VersionId"]))

    def test_update_table_missing(self):
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.update_table,
            DatabaseName=self.database,
            TableInput={"Name": f"nope_{suffix()}"},
        )
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.update_table,
            DatabaseName=f"nope_{suffix()}",
            TableInput={"Name": "t"},
        )

    def test_delete_table(self):
        name = f"gone_{suffix()}"
        self.create_fixture_table(self.database, name)
        resp = self.glue.delete_table(DatabaseName=self.database, Name=name)
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertClientError("EntityNotFoundException", self.glue.get_table, DatabaseName=self.database, Name=name)
        self.assertClientError(
            "EntityNotFoundException", self.glue.delete_table, DatabaseName=self.database, Name=name
        )


class CatalogPartitionTest(GlueTestCase):
    """The partition flow a boto3 user runs: create (one and in a batch), list with an expression
    and the paginator, get, update, delete, and the table's versions."""

    def partitioned_table(self):
        name = f"part_{suffix()}"
        self.glue.create_table(
            DatabaseName=self.database,
            TableInput={
                "Name": name,
                "PartitionKeys": [{"Name": "day", "Type": "date"}, {"Name": "source", "Type": "string"}],
                "StorageDescriptor": {"Columns": COLUMNS, "Location": f"s3://bucket/{name}/"},
            },
        )
        return name

    def values(self, table, **kwargs):
        out = []
        for page in self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=self.database, TableName=table, PaginationConfig={"PageSize": 2}, **kwargs
        ):
            out.extend(p["Values"] for p in page["Partitions"])
        return out

    def test_partition_flow(self):
        table = self.partitioned_table()
        self.glue.create_partition(
            DatabaseName=self.database,
            TableName=table,
            PartitionInput={"Values": ["2024-01-01", "crm"], "StorageDescriptor": {"Location": "s3://elsewhere/crm/"}},
        )
        resp = self.glue.batch_create_partition(
            DatabaseName=self.database,
            TableName=table,
            PartitionInputList=[
                {"Values": ["2024-01-02", "crm"]},
                {"Values": ["2024-02-01", "web"]},
                {"Values": ["2024-01-01", "crm"]},
                {"Values": ["2024-03-01"]},
            ],
        )
        errors = sorted((e["PartitionValues"], e["ErrorDetail"]["ErrorCode"]) for e in resp["Errors"])
        self.assertEqual(
            errors, [(["2024-01-01", "crm"], "AlreadyExistsException"), (["2024-03-01"], "InvalidInputException")]
        )
        self.assertEqual(len(self.values(table)), 3)
        self.assertEqual(
            self.values(table, Expression="day BETWEEN '2024-01-02' AND '2024-12-31' AND source <> 'crm'"),
            [["2024-02-01", "web"]],
        )
        self.assertEqual(self.values(table, Expression="source LIKE 'c%' AND day < '2024-01-02'"), [["2024-01-01", "crm"]])
        err = self.assertClientError(
            "InvalidInputException", self.glue.get_partitions, DatabaseName=self.database, TableName=table, Expression="day = 'tuesday'"
        )
        self.assertIn("is not a date", err["Error"]["Message"])

        got = self.glue.get_partition(DatabaseName=self.database, TableName=table, PartitionValues=["2024-01-01", "crm"])
        self.assertEqual(got["Partition"]["StorageDescriptor"]["Location"], "s3://elsewhere/crm/")
        self.assertEqual(got["Partition"]["TableName"], table)
        self.assertRecent(got["Partition"]["CreationTime"])

        self.glue.update_partition(
            DatabaseName=self.database,
            TableName=table,
            PartitionValueList=["2024-01-02", "crm"],
            PartitionInput={"Values": ["2024-01-03", "crm"], "Parameters": {"moved": "yes"}},
        )
        moved = self.glue.batch_get_partition(
            DatabaseName=self.database,
            TableName=table,
            PartitionsToGet=[{"Values": ["2024-01-02", "crm"]}, {"Values": ["2024-01-03", "crm"]}],
        )["Partitions"]
        self.assertEqual([(p["Values"], p.get("Parameters")) for p in moved], [(["2024-01-03", "crm"], {"moved": "yes"})])

        self.glue.delete_partition(DatabaseName=self.database, TableName=table, PartitionValues=["2024-01-01", "crm"])
        resp = self.glue.batch_delete_partition(
            DatabaseName=self.database,
            TableName=table,
            PartitionsToDelete=[{"Values": ["2024-01-03", "crm"]}, {"Values": ["1999-01-01", "x"]}],
        )
        self.assertEqual([e["PartitionValues"] for e in resp["Errors"]], [["1999-01-01", "x"]])
        self.assertEqual(self.values(table), [["2024-02-01", "web"]])
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.get_partition,
            DatabaseName=self.database,
            TableName=table,
            PartitionValues=["2024-01-01", "crm"],
        )
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.get_partitions,
            DatabaseName=self.database,
            TableName=f"nope_{suffix()}",
        )

    def test_table_versions_and_batch_delete(self):
        table = self.partitioned_table()
        self.glue.update_table(DatabaseName=self.database, TableInput={"Name": table, "Description": "v1"})
        self.glue.update_table(DatabaseName=self.database, TableInput={"Name": table, "Description": "v2"})
        versions = self.glue.get_table_versions(DatabaseName=self.database, TableName=table)["TableVersions"]
        self.assertEqual([v["VersionId"] for v in versions], ["0", "1", "2"])
        self.assertEqual(versions[1]["Table"]["Description"], "v1")
        self.glue.delete_table_version(DatabaseName=self.database, TableName=table, VersionId="1")
        one = self.glue.get_table_version(DatabaseName=self.database, TableName=table, VersionId="0")["TableVersion"]
        self.assertEqual(one["Table"]["PartitionKeys"][0]["Name"], "day")
        self.assertClientError(
            "EntityNotFoundException", self.glue.get_table_version, DatabaseName=self.database, TableName=table, VersionId="1"
        )
        found = self.glue.search_tables(SearchText=table)["TableList"]
        self.assertEqual([t["Name"] for t in found], [table])
        resp = self.glue.batch_delete_table(DatabaseName=self.database, TablesToDelete=[table, f"nope_{suffix()}"])
        self.assertEqual(len(resp["Errors"]), 1)
        self.assertEqual(self.glue.search_tables(SearchText=table)["TableList"], [])


# ==================================================================================================
# ML transforms
# ==================================================================================================


class CreateMLTransformTest(GlueTestCase):
    def test_create_applies_defaults_and_derives_schema(self):
        name = f"xf-{suffix()}"
        resp = self.glue.create_ml_transform(
            Name=name,
            Description="people dedupe",
            InputRecordTables=[{"DatabaseName": self.database, "TableName": self.table}],
            Parameters={
                "TransformType": "FIND_MATCHES",
                "FindMatchesParameters": {"PrimaryKeyColumnName": "id", "PrecisionRecallTradeoff": 0.9},
            },
            Role="GlueRole",
        )
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(resp["ResponseMetadata"]["RequestId"])
        transform_id = resp["TransformId"]
        self.addCleanup(self.delete_quietly, transform_id)
        self.assertRegex(transform_id, TRANSFORM_ID_RE)

        got = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual(got["TransformId"], transform_id)
        self.assertEqual(got["Name"], name)
        self.assertEqual(got["Description"], "people dedupe")
        self.assertEqual(got["Status"], "NOT_READY")
        self.assertEqual(got["LabelCount"], 0)
        self.assertEqual(got["GlueVersion"], "0.9")
        self.assertEqual(got["MaxCapacity"], 10.0)
        self.assertEqual(got["Timeout"], 2880)
        self.assertEqual(got["MaxRetries"], 0)
        self.assertEqual(got["Role"], "GlueRole")
        self.assertEqual(got["Schema"], EXPECTED_SCHEMA)
        self.assertEqual(got["InputRecordTables"], [{"DatabaseName": self.database, "TableName": self.table}])
        self.assertEqual(got["Parameters"]["TransformType"], "FIND_MATCHES")
        self.assertEqual(got["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"], "id")
        self.assertEqual(got["Parameters"]["FindMatchesParameters"]["PrecisionRecallTradeoff"], 0.9)
        self.assertNotIn("EvaluationMetrics", got)
        self.assertRecent(got["CreatedOn"])
        self.assertRecent(got["LastModifiedOn"])

    def test_create_with_worker_type_computes_max_capacity(self):
        transform_id = self.create_transform(WorkerType="G.2X", NumberOfWorkers=3, GlueVersion="2.0")
        got = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual(got["WorkerType"], "G.2X")
        self.assertEqual(got["NumberOfWorkers"], 3)
        self.assertEqual(got["MaxCapacity"], 6.0)
        self.assertEqual(got["GlueVersion"], "2.0")

    def test_create_with_tags(self):
        transform_id = self.create_transform(Tags={"team": "data", "env": "test"})
        tags = self.glue.get_tags(ResourceArn=transform_arn(transform_id))["Tags"]
        self.assertEqual(tags, {"team": "data", "env": "test"})

    def test_duplicate_name_is_already_exists(self):
        name = f"dup-{suffix()}"
        self.create_transform(name=name)
        resp = self.assertClientError(
            "AlreadyExistsException",
            self.glue.create_ml_transform,
            Name=name,
            InputRecordTables=[{"DatabaseName": self.database, "TableName": self.table}],
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "email"}},
            Role="GlueRole",
        )
        self.assertEqual(resp["Error"]["Message"], f"Transform with name {name} already exists.")

    def _create_error(self, code, client=None, **overrides):
        params = {
            "Name": f"bad-{suffix()}",
            "InputRecordTables": [{"DatabaseName": self.database, "TableName": self.table}],
            "Parameters": {"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
            "Role": "GlueRole",
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return self.assertClientError(code, (client or self.glue).create_ml_transform, **params)

    def test_missing_catalog_table(self):
        resp = self._create_error(
            "InvalidInputException", InputRecordTables=[{"DatabaseName": self.database, "TableName": "nope"}]
        )
        self.assertTrue(
            resp["Error"]["Message"].startswith("Problem fetching the data catalog schema: "), resp["Error"]
        )
        resp = self._create_error(
            "InvalidInputException", InputRecordTables=[{"DatabaseName": f"nope_{suffix()}", "TableName": "t"}]
        )
        self.assertTrue(resp["Error"]["Message"].startswith("Problem fetching the data catalog schema: "))

    def test_exactly_one_input_table(self):
        one = {"DatabaseName": self.database, "TableName": self.table}
        for tables in ([], [one, one]):
            resp = self._create_error("InvalidInputException", InputRecordTables=tables)
            self.assertEqual(resp["Error"]["Message"], "Exactly one input record table must be provided.")

    def test_semantic_parameter_errors(self):
        resp = self._create_error("InvalidInputException", Parameters={"TransformType": "FIND_MATCHES"})
        self.assertEqual(resp["Error"]["Message"], "Find Matches parameters have not been set.")
        resp = self._create_error(
            "InvalidInputException", Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {}}
        )
        self.assertEqual(resp["Error"]["Message"], "A primary key must be specified in Find Matches parameters.")
        resp = self._create_error(
            "InvalidInputException",
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "nope"}},
        )
        self.assertEqual(resp["Error"]["Message"], "Schema should contain given primary key: nope.")

    def test_capacity_errors(self):
        resp = self._create_error(
            "InvalidInputException", MaxCapacity=10.0, WorkerType="Standard", NumberOfWorkers=2
        )
        self.assertEqual(resp["Error"]["Message"], "Cannot set Max Capacity and Worker Num/Type at the same time.")
        resp = self._create_error("InvalidInputException", WorkerType="G.1X")
        self.assertEqual(resp["Error"]["Message"], "Both WorkerType and NumberOfWorkers should be set.")
        resp = self._create_error("InvalidInputException", MaxRetries=-1)
        self.assertEqual(resp["Error"]["Message"], "Max retries should be non-negative.")

    def test_constraints_botocore_does_not_check_reach_the_server(self):
        # botocore validates only required/type/min; max, pattern and enum are the server's job.
        self._create_error(
            "ValidationException",
            Parameters={
                "TransformType": "FIND_MATCHES",
                "FindMatchesParameters": {"PrimaryKeyColumnName": "id", "PrecisionRecallTradeoff": 1.5},
            },
        )
        self._create_error("ValidationException", Parameters={"TransformType": "NOT_A_TYPE"})
        self._create_error("ValidationException", Name="x" * 256)
        self._create_error("ValidationException", Name="two\nlines")
        self._create_error("ValidationException", GlueVersion="2")
        self._create_error("ValidationException", WorkerType="G.64X", NumberOfWorkers=2)

    def test_min_constraints_are_checked_by_botocore_and_by_the_server(self):
        for overrides in ({"Name": ""}, {"Timeout": 0}):
            with self.assertRaises(ParamValidationError):
                self.glue.create_ml_transform(
                    **{
                        "Name": f"bad-{suffix()}",
                        "InputRecordTables": [{"DatabaseName": self.database, "TableName": self.table}],
                        "Parameters": {"TransformType": "FIND_MATCHES"},
                        "Role": "GlueRole",
                        **overrides,
                    }
                )
            self._create_error("ValidationException", client=self.raw, **overrides)

    def test_missing_required_member_is_validation_exception(self):
        self._create_error("ValidationException", client=self.raw, Role=None)
        self._create_error("ValidationException", client=self.raw, Name=None)

    def test_wrong_json_type_is_serialization_exception(self):
        self._create_error("SerializationException", client=self.raw, Timeout="soon")
        self._create_error("SerializationException", client=self.raw, Description=42)


class GetMLTransformTest(GlueTestCase):
    def test_unknown_transform(self):
        resp = self.assertClientError("EntityNotFoundException", self.glue.get_ml_transform, TransformId=MISSING_TRANSFORM)
        self.assertEqual(
            resp["Error"]["Message"], f"Cannot find MLTransform in account {ACCOUNT} with handle {MISSING_TRANSFORM}."
        )

    def test_invalid_id(self):
        self.assertClientError("ValidationException", self.glue.get_ml_transform, TransformId="x" * 256)
        self.assertClientError("ValidationException", self.raw.get_ml_transform)
        self.assertClientError("SerializationException", self.raw.get_ml_transform, TransformId=12345)

    def test_transforms_are_scoped_by_region(self):
        transform_id = self.create_transform()
        other = make_client(region="eu-west-1")
        self.assertClientError("EntityNotFoundException", other.get_ml_transform, TransformId=transform_id)
        self.assertNotIn(transform_id, self.all_transform_ids(client=other))


class ListAndGetMLTransformsTest(GlueTestCase):
    def test_get_ml_transforms_filter_by_name(self):
        name = f"byname-{suffix()}"
        transform_id = self.create_transform(name=name)
        self.create_transform()
        resp = self.glue.get_ml_transforms(Filter={"Name": name})
        self.assertEqual([t["TransformId"] for t in resp["Transforms"]], [transform_id])
        transform = resp["Transforms"][0]
        self.assertEqual(transform["Name"], name)
        self.assertEqual(transform["Schema"], EXPECTED_SCHEMA)
        self.assertRecent(transform["CreatedOn"])
        self.assertNotIn("NextToken", resp)
        self.assertEqual(self.glue.get_ml_transforms(Filter={"Name": f"nope-{suffix()}"})["Transforms"], [])

    def test_default_order_is_created_ascending(self):
        ids = []
        for _ in range(3):
            ids.append(self.create_transform())
            time.sleep(0.01)
        listed = [i for i in self.all_transform_ids() if i in ids]
        self.assertEqual(listed, ids)
        full = []
        token = None
        while True:
            page = self.glue.get_ml_transforms(**({"NextToken": token} if token else {}))
            full.extend(t["TransformId"] for t in page["Transforms"] if t["TransformId"] in ids)
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(full, ids)

    def test_sort_by_name(self):
        tag = suffix()
        ids = {}
        for name in (f"c-{tag}", f"a-{tag}", f"b-{tag}"):
            ids[name] = self.create_transform(name=name, Tags={"sortgroup": tag})
        asc = self.glue.list_ml_transforms(
            Tags={"sortgroup": tag}, Sort={"Column": "NAME", "SortDirection": "ASCENDING"}
        )["TransformIds"]
        self.assertEqual(asc, [ids[f"a-{tag}"], ids[f"b-{tag}"], ids[f"c-{tag}"]])
        desc = self.glue.list_ml_transforms(
            Tags={"sortgroup": tag}, Sort={"Column": "NAME", "SortDirection": "DESCENDING"}
        )["TransformIds"]
        self.assertEqual(desc, list(reversed(asc)))
        transforms = self.glue.get_ml_transforms(
            Sort={"Column": "NAME", "SortDirection": "DESCENDING"}, MaxResults=1000
        )["Transforms"]
        names = [t["Name"] for t in transforms]
        self.assertEqual(names, sorted(names, reverse=True))

    def test_pagination_with_max_results(self):
        tag = suffix()
        ids = [self.create_transform(Tags={"pagegroup": tag}) for _ in range(3)]
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"Tags": {"pagegroup": tag}, "MaxResults": 2}
            if token:
                kwargs["NextToken"] = token
            page = self.glue.list_ml_transforms(**kwargs)
            pages += 1
            self.assertLessEqual(len(page["TransformIds"]), 2)
            seen.extend(page["TransformIds"])
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 2)
        self.assertEqual(seen, ids)

    def test_next_token_from_a_different_request_is_rejected(self):
        self.create_transform()
        self.create_transform()
        page = self.glue.get_ml_transforms(MaxResults=1)
        self.assertIn("NextToken", page)
        self.assertClientError(
            "InvalidInputException",
            self.glue.get_ml_transforms,
            MaxResults=1,
            NextToken=page["NextToken"],
            Filter={"Status": "READY"},
        )
        self.assertClientError(
            "InvalidInputException",
            self.glue.list_ml_transforms,
            MaxResults=1,
            NextToken=page["NextToken"],
            Sort={"Column": "NAME", "SortDirection": "ASCENDING"},
        )

    def test_timestamp_filters_are_sent_as_integer_epoch_seconds(self):
        name = f"ts-{suffix()}"
        transform_id = self.create_transform(name=name)
        created = self.glue.get_ml_transform(TransformId=transform_id)["CreatedOn"]
        second = created.replace(microsecond=0)
        bodies = self.capture_bodies(self.glue, "GetMLTransforms")

        def ids(**criteria):
            resp = self.glue.get_ml_transforms(Filter={"Name": name, **criteria})
            return [t["TransformId"] for t in resp["Transforms"]]

        self.assertEqual(ids(CreatedAfter=second - dt.timedelta(seconds=1)), [transform_id])
        self.assertEqual(ids(CreatedBefore=second + dt.timedelta(seconds=2)), [transform_id])
        self.assertEqual(ids(CreatedAfter=second + dt.timedelta(seconds=2)), [])
        self.assertEqual(ids(CreatedBefore=second - dt.timedelta(seconds=1)), [])
        self.assertEqual(ids(LastModifiedAfter=second - dt.timedelta(seconds=1)), [transform_id])
        self.assertEqual(ids(LastModifiedBefore=second - dt.timedelta(seconds=1)), [])
        sent = bodies[0]["Filter"]["CreatedAfter"]
        self.assertIsInstance(sent, int, f"botocore sent {sent!r}")
        self.assertEqual(sent, int(second.timestamp()) - 1)

    def test_filter_by_status_glue_version_and_schema(self):
        column = f"col_{suffix()}"
        table = f"schema_{suffix()}"
        self.create_fixture_table(self.database, table, columns=[{"Name": "id", "Type": "string"}, {"Name": column, "Type": "bigint"}])
        transform_id = self.create_transform(table=table, GlueVersion="1.0")
        ready_id = self.create_transform(table=table, GlueVersion="1.0")
        self.import_labels(ready_id, 4)

        def ids(**criteria):
            return self.all_transform_ids(Filter={"Schema": [{"Name": column, "DataType": "bigint"}], **criteria})

        self.assertEqual(ids(), [transform_id, ready_id])
        self.assertEqual(ids(Status="READY"), [ready_id])
        self.assertEqual(ids(Status="NOT_READY"), [transform_id])
        self.assertEqual(ids(GlueVersion="1.0"), [transform_id, ready_id])
        self.assertEqual(ids(GlueVersion="2.0"), [])
        self.assertEqual(ids(TransformType="FIND_MATCHES"), [transform_id, ready_id])
        self.assertEqual(
            self.all_transform_ids(Filter={"Schema": [{"Name": column, "DataType": "BIGINT"}]}),
            [transform_id, ready_id],
        )
        self.assertEqual(self.all_transform_ids(Filter={"Schema": [{"Name": column, "DataType": "string"}]}), [])

    def test_list_ml_transforms_tag_filter(self):
        tag = suffix()
        tagged = self.create_transform(Tags={"group": tag, "other": "x"})
        self.create_transform(Tags={"group": "different"})
        self.assertEqual(self.glue.list_ml_transforms(Tags={"group": tag})["TransformIds"], [tagged])
        self.assertEqual(self.glue.list_ml_transforms(Tags={"group": tag, "other": "x"})["TransformIds"], [tagged])
        self.assertEqual(self.glue.list_ml_transforms(Tags={"group": tag, "other": "y"})["TransformIds"], [])

    def test_invalid_list_requests(self):
        for op in (self.glue.get_ml_transforms, self.glue.list_ml_transforms):
            self.assertClientError("ValidationException", op, MaxResults=1001)
            self.assertClientError("ValidationException", op, Sort={"Column": "COLOR", "SortDirection": "ASCENDING"})
            self.assertClientError("ValidationException", op, Sort={"Column": "NAME", "SortDirection": "UP"})
            self.assertClientError("ValidationException", op, Filter={"Status": "SLEEPING"})
            with self.assertRaises(ParamValidationError):
                op(MaxResults=0)
        self.assertClientError("ValidationException", self.raw.list_ml_transforms, MaxResults=0)
        self.assertClientError("ValidationException", self.raw.get_ml_transforms, Sort={"Column": "NAME"})
        self.assertClientError("SerializationException", self.raw.get_ml_transforms, MaxResults="five")


class UpdateMLTransformTest(GlueTestCase):
    def test_partial_update(self):
        transform_id = self.create_transform(Description="before", Tags={"keep": "me"})
        before = self.glue.get_ml_transform(TransformId=transform_id)
        time.sleep(0.02)
        new_name = f"renamed-{suffix()}"
        resp = self.glue.update_ml_transform(
            TransformId=transform_id,
            Name=new_name,
            Description="after",
            Parameters={
                "TransformType": "FIND_MATCHES",
                "FindMatchesParameters": {"PrimaryKeyColumnName": "email", "AccuracyCostTradeoff": 0.25},
            },
            MaxCapacity=20.0,
            Timeout=60,
            MaxRetries=2,
            GlueVersion="2.0",
        )
        self.assertEqual(resp["TransformId"], transform_id)
        after = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual(after["Name"], new_name)
        self.assertEqual(after["Description"], "after")
        self.assertEqual(after["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"], "email")
        self.assertEqual(after["Parameters"]["FindMatchesParameters"]["AccuracyCostTradeoff"], 0.25)
        self.assertEqual(after["MaxCapacity"], 20.0)
        self.assertEqual(after["Timeout"], 60)
        self.assertEqual(after["MaxRetries"], 2)
        self.assertEqual(after["GlueVersion"], "2.0")
        # untouched members
        self.assertEqual(after["Role"], before["Role"])
        self.assertEqual(after["Schema"], before["Schema"])
        self.assertEqual(after["Status"], "NOT_READY")
        self.assertEqual(after["CreatedOn"], before["CreatedOn"])
        self.assertGreater(after["LastModifiedOn"], before["LastModifiedOn"])
        self.assertEqual(self.glue.get_tags(ResourceArn=transform_arn(transform_id))["Tags"], {"keep": "me"})
        self.assertEqual(self.glue.get_ml_transforms(Filter={"Name": new_name})["Transforms"][0]["TransformId"], transform_id)

    def test_unknown_transform(self):
        resp = self.assertClientError(
            "EntityNotFoundException", self.glue.update_ml_transform, TransformId=MISSING_TRANSFORM, Description="x"
        )
        self.assertEqual(
            resp["Error"]["Message"], f"Cannot find MLTransform in account {ACCOUNT} with handle {MISSING_TRANSFORM}."
        )

    def test_rename_to_existing_name(self):
        taken = f"taken-{suffix()}"
        self.create_transform(name=taken)
        transform_id = self.create_transform()
        resp = self.assertClientError(
            "InvalidInputException", self.glue.update_ml_transform, TransformId=transform_id, Name=taken
        )
        self.assertEqual(resp["Error"]["Message"], f"Another transform with name {taken} already exists.")

    def test_invalid_updates(self):
        transform_id = self.create_transform()
        for client, tradeoff in ((self.glue, 1.5), (self.raw, -0.5)):  # botocore checks only the minimum
            self.assertClientError(
                "ValidationException",
                client.update_ml_transform,
                TransformId=transform_id,
                Parameters={
                    "TransformType": "FIND_MATCHES",
                    "FindMatchesParameters": {"PrimaryKeyColumnName": "id", "AccuracyCostTradeoff": tradeoff},
                },
            )
        self.assertClientError(
            "ValidationException", self.glue.update_ml_transform, TransformId=transform_id, Description="d" * 2049
        )
        self.assertClientError("ValidationException", self.raw.update_ml_transform, TransformId=transform_id, Name="")
        self.assertClientError("ValidationException", self.raw.update_ml_transform, TransformId=transform_id, Timeout=0)
        resp = self.assertClientError(
            "InvalidInputException", self.glue.update_ml_transform, TransformId=transform_id, MaxRetries=-1
        )
        self.assertEqual(resp["Error"]["Message"], "Max retries should be non-negative.")
        resp = self.assertClientError(
            "InvalidInputException",
            self.glue.update_ml_transform,
            TransformId=transform_id,
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "nope"}},
        )
        self.assertEqual(resp["Error"]["Message"], "Schema should contain given primary key: nope.")
        self.assertEqual(self.glue.get_ml_transform(TransformId=transform_id)["Parameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"], "id")


class DeleteMLTransformTest(GlueTestCase):
    def test_delete_removes_transform_tags_and_runs(self):
        transform_id = self.create_transform(cleanup=False, Tags={"a": "b"})
        run_id = self.import_labels(transform_id, 2)
        hanging = self.start_hanging_run(transform_id)
        resp = self.glue.delete_ml_transform(TransformId=transform_id)
        self.assertEqual(resp["TransformId"], transform_id)
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_transform, TransformId=transform_id)
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_task_run, TransformId=transform_id, TaskRunId=run_id)
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_task_run, TransformId=transform_id, TaskRunId=hanging)
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_task_runs, TransformId=transform_id)
        self.assertClientError("EntityNotFoundException", self.glue.get_tags, ResourceArn=transform_arn(transform_id))
        self.assertNotIn(transform_id, self.all_transform_ids())

    def test_delete_unknown(self):
        resp = self.assertClientError("EntityNotFoundException", self.glue.delete_ml_transform, TransformId=MISSING_TRANSFORM)
        self.assertEqual(
            resp["Error"]["Message"], f"Cannot find MLTransform in account {ACCOUNT} with handle {MISSING_TRANSFORM}."
        )

    def test_name_is_free_again_after_delete(self):
        name = f"reuse-{suffix()}"
        first = self.create_transform(name=name, cleanup=False)
        self.glue.delete_ml_transform(TransformId=first)
        second = self.create_transform(name=name)
        self.assertNotEqual(first, second)


# ==================================================================================================
# Task runs (scripted)
# ==================================================================================================


class LabelingSetGenerationTest(GlueTestCase):
    def test_success(self):
        transform_id = self.create_transform()
        path = "s3://scripted/labeling-set/?sleep=100"
        resp = self.glue.start_ml_labeling_set_generation_task_run(TransformId=transform_id, OutputS3Path=path)
        run_id = resp["TaskRunId"]
        self.assertRegex(run_id, TASK_RUN_ID_RE)
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED")
        self.assertEqual(run["TransformId"], transform_id)
        self.assertEqual(run["TaskRunId"], run_id)
        self.assertEqual(run["Properties"]["TaskType"], "LABELING_SET_GENERATION")
        self.assertEqual(run["Properties"]["LabelingSetGenerationTaskRunProperties"]["OutputS3Path"], path)
        self.assertNotIn("ErrorString", run)
        self.assertRecent(run["StartedOn"])
        self.assertRecent(run["LastModifiedOn"])
        self.assertRecent(run["CompletedOn"])
        self.assertGreaterEqual(run["CompletedOn"], run["StartedOn"])
        self.assertIsInstance(run["ExecutionTime"], int)
        # generating a labeling set does not teach the transform
        self.assertEqual(self.glue.get_ml_transform(TransformId=transform_id)["Status"], "NOT_READY")

    def test_failed_run_reports_error_string(self):
        transform_id = self.create_transform()
        run_id = self.glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path="s3://scripted/x?outcome=fail&message=boom"
        )["TaskRunId"]
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "FAILED")
        self.assertIn("boom", run["ErrorString"])
        self.assertIn("CompletedOn", run)

    def test_errors(self):
        transform_id = self.create_transform()
        self.assertClientError(
            "InvalidInputException",
            self.glue.start_ml_labeling_set_generation_task_run,
            TransformId=transform_id,
            OutputS3Path="/tmp/labels",
        )
        resp = self.assertClientError(
            "EntityNotFoundException",
            self.glue.start_ml_labeling_set_generation_task_run,
            TransformId=MISSING_TRANSFORM,
            OutputS3Path="s3://scripted/x",
        )
        self.assertEqual(
            resp["Error"]["Message"], f"Cannot find MLTransform in account {ACCOUNT} with handle {MISSING_TRANSFORM}."
        )
        self.assertClientError(
            "ValidationException", self.raw.start_ml_labeling_set_generation_task_run, TransformId=transform_id
        )
        self.assertEqual(self.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"], [])

    def test_concurrent_runs_limit_and_no_retried_duplicates(self):
        transform_id = self.create_transform()
        # legacy retry mode retries up to 4 times on 5xx/throttling: a 400 must come back on the first try
        retrying = make_client(retries={"mode": "legacy", "max_attempts": 5})
        for _ in range(3):
            resp = retrying.start_ml_labeling_set_generation_task_run(
                TransformId=transform_id, OutputS3Path=f"s3://scripted/out-{suffix()}?outcome=hang"
            )
            self.assertEqual(resp["ResponseMetadata"]["RetryAttempts"], 0)
            self.addCleanup(self.cancel_quietly, transform_id, resp["TaskRunId"])
        with self.assertRaises(ClientError) as cm:
            retrying.start_ml_labeling_set_generation_task_run(
                TransformId=transform_id, OutputS3Path="s3://scripted/one-too-many?outcome=hang"
            )
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "ConcurrentRunsExceededException")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(err["ResponseMetadata"]["RetryAttempts"], 0)
        self.assertTrue(err["ResponseMetadata"]["RequestId"])
        self.assertRegex(err["Error"]["Message"], r"^ML Task Runs count \d+ has exceeded the (transform )?limit of 3 task runs\.$")
        runs = self.glue.get_ml_task_runs(TransformId=transform_id)["TaskRuns"]
        self.assertEqual(len(runs), 3, "a rejected or retried start must not create task runs")


class ImportLabelsTest(GlueTestCase):
    def test_import_makes_transform_ready_and_counts_labels(self):
        transform_id = self.create_transform()
        before = self.glue.get_ml_transform(TransformId=transform_id)
        run_id = self.import_labels(transform_id, 5)
        run = self.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        self.assertEqual(run["Properties"]["TaskType"], "IMPORT_LABELS")
        props = run["Properties"]["ImportLabelsTaskRunProperties"]
        self.assertEqual(props["InputS3Path"], "s3://scripted/labels.csv?labels=5")
        self.assertFalse(props.get("Replace", False))
        after = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual(after["Status"], "READY")
        self.assertEqual(after["LabelCount"], 5)
        self.assertGreaterEqual(after["LastModifiedOn"], before["LastModifiedOn"])

        self.import_labels(transform_id, 3)
        self.assertEqual(self.glue.get_ml_transform(TransformId=transform_id)["LabelCount"], 8)

        replace_id = self.import_labels(transform_id, 2, replace=True)
        replace_run = self.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=replace_id)
        self.assertTrue(replace_run["Properties"]["ImportLabelsTaskRunProperties"]["Replace"])
        self.assertEqual(self.glue.get_ml_transform(TransformId=transform_id)["LabelCount"], 2)

        self.import_labels(transform_id, 0, replace=True)
        emptied = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual(emptied["LabelCount"], 0)
        self.assertEqual(emptied["Status"], "NOT_READY")

    def test_failed_import_leaves_transform_untouched(self):
        transform_id = self.create_transform()
        run_id = self.glue.start_import_labels_task_run(
            TransformId=transform_id, InputS3Path="s3://scripted/labels.csv?labels=5&outcome=fail&message=bad+file"
        )["TaskRunId"]
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "FAILED")
        self.assertTrue(run.get("ErrorString"))
        got = self.glue.get_ml_transform(TransformId=transform_id)
        self.assertEqual((got["Status"], got["LabelCount"]), ("NOT_READY", 0))

    def test_errors(self):
        transform_id = self.create_transform()
        self.assertClientError(
            "InvalidInputException",
            self.glue.start_import_labels_task_run,
            TransformId=transform_id,
            InputS3Path="gs://bucket/labels.csv",
        )
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.start_import_labels_task_run,
            TransformId=MISSING_TRANSFORM,
            InputS3Path="s3://scripted/labels.csv",
        )
        self.assertClientError("ValidationException", self.raw.start_import_labels_task_run, TransformId=transform_id)
        self.assertClientError(
            "SerializationException",
            self.raw.start_import_labels_task_run,
            TransformId=transform_id,
            InputS3Path="s3://scripted/labels.csv",
            ReplaceAllLabels="yes",
        )


class ExportLabelsTest(GlueTestCase):
    def test_export_without_labels_is_entity_not_found(self):
        transform_id = self.create_transform()
        resp = self.assertClientError(
            "EntityNotFoundException",
            self.glue.start_export_labels_task_run,
            TransformId=transform_id,
            OutputS3Path="s3://scripted/export/",
        )
        self.assertEqual(
            resp["Error"]["Message"], f"No labelset exists for transformId {transform_id} in account id {ACCOUNT}."
        )

    def test_export_after_import(self):
        transform_id = self.create_transform()
        self.import_labels(transform_id, 4)
        path = "s3://scripted/export/"
        run_id = self.glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=path)["TaskRunId"]
        self.assertRegex(run_id, TASK_RUN_ID_RE)
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED")
        self.assertEqual(run["Properties"]["TaskType"], "EXPORT_LABELS")
        self.assertEqual(run["Properties"]["ExportLabelsTaskRunProperties"]["OutputS3Path"], path)

    def test_errors(self):
        transform_id = self.create_transform()
        self.import_labels(transform_id, 1)
        self.assertClientError(
            "InvalidInputException",
            self.glue.start_export_labels_task_run,
            TransformId=transform_id,
            OutputS3Path="bucket/export",
        )
        self.assertClientError(
            "EntityNotFoundException",
            self.glue.start_export_labels_task_run,
            TransformId=MISSING_TRANSFORM,
            OutputS3Path="s3://scripted/export/",
        )
        self.assertClientError("ValidationException", self.raw.start_export_labels_task_run, TransformId=transform_id)


class EvaluationTest(GlueTestCase):
    def test_not_ready_transform(self):
        transform_id = self.create_transform()
        resp = self.assertClientError(
            "MLTransformNotReadyException", self.glue.start_ml_evaluation_task_run, TransformId=transform_id
        )
        self.assertEqual(
            resp["Error"]["Message"], "This operation can only be applied to a transform that is in a READY state."
        )

    def test_evaluation_on_ready_transform(self):
        transform_id = self.create_transform()
        self.import_labels(transform_id, 6)
        run_id = self.glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"]
        self.assertRegex(run_id, TASK_RUN_ID_RE)
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED", run.get("ErrorString"))
        self.assertEqual(run["Properties"]["TaskType"], "EVALUATION")

    def test_errors(self):
        self.assertClientError("EntityNotFoundException", self.glue.start_ml_evaluation_task_run, TransformId=MISSING_TRANSFORM)
        self.assertClientError("ValidationException", self.raw.start_ml_evaluation_task_run)
        self.assertClientError("ValidationException", self.glue.start_ml_evaluation_task_run, TransformId="a\nb")

    def test_concurrent_runs_limit(self):
        transform_id = self.create_transform()
        self.import_labels(transform_id, 2)
        for _ in range(3):
            self.start_hanging_run(transform_id)
        self.assertClientError("ConcurrentRunsExceededException", self.glue.start_ml_evaluation_task_run, TransformId=transform_id)


class GetAndCancelTaskRunTest(GlueTestCase):
    def test_get_ml_task_run_errors(self):
        transform_id = self.create_transform()
        resp = self.assertClientError(
            "EntityNotFoundException", self.glue.get_ml_task_run, TransformId=transform_id, TaskRunId=MISSING_RUN
        )
        self.assertEqual(
            resp["Error"]["Message"],
            f"No ML Task Run found for {MISSING_RUN}: in account {ACCOUNT} for transform {transform_id}.",
        )
        self.assertClientError(
            "EntityNotFoundException", self.glue.get_ml_task_run, TransformId=MISSING_TRANSFORM, TaskRunId=MISSING_RUN
        )
        self.assertClientError("ValidationException", self.raw.get_ml_task_run, TransformId=transform_id)

    def test_run_is_not_visible_through_another_transform(self):
        owner = self.create_transform()
        other = self.create_transform()
        run_id = self.import_labels(owner, 1)
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_task_run, TransformId=other, TaskRunId=run_id)
        self.assertClientError("EntityNotFoundException", self.glue.cancel_ml_task_run, TransformId=other, TaskRunId=run_id)

    def test_running_run_has_no_completion_time(self):
        transform_id = self.create_transform()
        run_id = self.start_hanging_run(transform_id)
        run = self.wait_for_run(transform_id, run_id, until={"RUNNING"})
        self.assertNotIn("CompletedOn", run)
        self.assertRecent(run["StartedOn"])

    def test_cancel_active_run(self):
        transform_id = self.create_transform()
        run_id = self.start_hanging_run(transform_id)
        self.wait_for_run(transform_id, run_id, until={"RUNNING"})
        resp = self.glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        self.assertEqual(resp["TransformId"], transform_id)
        self.assertEqual(resp["TaskRunId"], run_id)
        self.assertIn(resp["Status"], ("STOPPING", "STOPPED"))
        run = self.wait_for_run(transform_id, run_id)
        self.assertEqual(run["Status"], "STOPPED")
        self.assertIn("CompletedOn", run)
        again = self.glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        self.assertEqual(again["Status"], "STOPPED")
        # a cancelled run frees its concurrency slot
        for _ in range(3):
            self.start_hanging_run(transform_id)

    def test_cancel_terminal_run_returns_its_status(self):
        transform_id = self.create_transform()
        run_id = self.import_labels(transform_id, 1)
        resp = self.glue.cancel_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        self.assertEqual(resp["Status"], "SUCCEEDED")
        self.assertEqual(self.glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)["Status"], "SUCCEEDED")

    def test_cancel_errors(self):
        transform_id = self.create_transform()
        self.assertClientError(
            "EntityNotFoundException", self.glue.cancel_ml_task_run, TransformId=transform_id, TaskRunId=MISSING_RUN
        )
        self.assertClientError(
            "EntityNotFoundException", self.glue.cancel_ml_task_run, TransformId=MISSING_TRANSFORM, TaskRunId=MISSING_RUN
        )
        self.assertClientError("ValidationException", self.raw.cancel_ml_task_run, TransformId=transform_id)

    @unittest.skipUnless(TIMEOUT_UNIT_MS, "set DOPPEL_TIMEOUT_UNIT_MS to the server's value to test TIMEOUT")
    def test_run_exceeding_timeout_ends_timeout(self):
        transform_id = self.create_transform(Timeout=1)
        run_id = self.start_hanging_run(transform_id)
        budget = max(10.0, 5 * float(TIMEOUT_UNIT_MS) / 1000.0)
        run = self.wait_for_run(transform_id, run_id, timeout=budget)
        self.assertEqual(run["Status"], "TIMEOUT")
        self.assertIn("CompletedOn", run)


class GetMLTaskRunsTest(GlueTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One transform with a known history: labeling set, import, export (oldest first).
        cls.transform_id = cls.glue.create_ml_transform(
            Name=f"runs-{suffix()}",
            InputRecordTables=[{"DatabaseName": cls.database, "TableName": cls.table}],
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
            Role="GlueRole",
        )["TransformId"]
        cls.run_ids = []
        starts = [
            lambda: cls.glue.start_ml_labeling_set_generation_task_run(
                TransformId=cls.transform_id, OutputS3Path="s3://scripted/gen?sleep=10"
            ),
            lambda: cls.glue.start_import_labels_task_run(
                TransformId=cls.transform_id, InputS3Path="s3://scripted/labels.csv?labels=3&sleep=10"
            ),
            lambda: cls.glue.start_ml_labeling_set_generation_task_run(
                TransformId=cls.transform_id, OutputS3Path="s3://scripted/gen2?outcome=fail&sleep=10"
            ),
        ]
        for start in starts:
            run_id = start()["TaskRunId"]
            cls.run_ids.append(run_id)
            deadline = time.monotonic() + 20
            while cls.glue.get_ml_task_run(TransformId=cls.transform_id, TaskRunId=run_id)["Status"] not in TERMINAL:
                if time.monotonic() > deadline:
                    raise AssertionError(f"run {run_id} did not finish")
                time.sleep(0.05)
            time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.glue.delete_ml_transform(TransformId=cls.transform_id)
        except ClientError:
            pass
        super().tearDownClass()

    def runs(self, **kwargs):
        return self.glue.get_ml_task_runs(TransformId=self.transform_id, **kwargs)

    def test_default_order_is_started_descending(self):
        resp = self.runs()
        self.assertEqual([r["TaskRunId"] for r in resp["TaskRuns"]], list(reversed(self.run_ids)))
        self.assertNotIn("NextToken", resp)
        for run in resp["TaskRuns"]:
            self.assertEqual(run["TransformId"], self.transform_id)
            self.assertRecent(run["StartedOn"])
            self.assertRecent(run["CompletedOn"])
            self.assertIn(run["Status"], TERMINAL)
        statuses = [r["Status"] for r in resp["TaskRuns"]]
        self.assertEqual(statuses, ["FAILED", "SUCCEEDED", "SUCCEEDED"])

    def test_sort(self):
        asc = [r["TaskRunId"] for r in self.runs(Sort={"Column": "STARTED", "SortDirection": "ASCENDING"})["TaskRuns"]]
        self.assertEqual(asc, self.run_ids)
        # The order between different types/statuses is not specified; equal values must be grouped and
        # DESCENDING must reverse ASCENDING.
        for column, key in (("TASK_RUN_TYPE", lambda r: r["Properties"]["TaskType"]), ("STATUS", lambda r: r["Status"])):
            up = [key(r) for r in self.runs(Sort={"Column": column, "SortDirection": "ASCENDING"})["TaskRuns"]]
            down = [key(r) for r in self.runs(Sort={"Column": column, "SortDirection": "DESCENDING"})["TaskRuns"]]
            self.assertEqual(sorted(up), sorted(key(r) for r in self.runs()["TaskRuns"]))
            self.assertEqual(up, list(reversed(down)), column)
            groups = [value for i, value in enumerate(up) if i == 0 or up[i - 1] != value]
            self.assertEqual(len(groups), len(set(groups)), f"{column}: equal values not grouped: {up}")

    def test_filters(self):
        imports = self.runs(Filter={"TaskRunType": "IMPORT_LABELS"})["TaskRuns"]
        self.assertEqual([r["TaskRunId"] for r in imports], [self.run_ids[1]])
        failed = self.runs(Filter={"Status": "FAILED"})["TaskRuns"]
        self.assertEqual([r["TaskRunId"] for r in failed], [self.run_ids[2]])
        both = self.runs(Filter={"TaskRunType": "LABELING_SET_GENERATION", "Status": "SUCCEEDED"})["TaskRuns"]
        self.assertEqual([r["TaskRunId"] for r in both], [self.run_ids[0]])
        self.assertEqual(self.runs(Filter={"TaskRunType": "EVALUATION"})["TaskRuns"], [])

    def test_started_filters_with_integer_seconds(self):
        bodies = self.capture_bodies(self.glue, "GetMLTaskRuns")
        first = self.glue.get_ml_task_run(TransformId=self.transform_id, TaskRunId=self.run_ids[0])["StartedOn"]
        second = first.replace(microsecond=0)
        after = self.runs(Filter={"StartedAfter": second - dt.timedelta(seconds=1)})["TaskRuns"]
        self.assertEqual(len(after), 3)
        self.assertEqual(self.runs(Filter={"StartedAfter": now_utc() + dt.timedelta(hours=1)})["TaskRuns"], [])
        self.assertEqual(self.runs(Filter={"StartedBefore": second - dt.timedelta(seconds=1)})["TaskRuns"], [])
        self.assertEqual(len(self.runs(Filter={"StartedBefore": now_utc() + dt.timedelta(hours=1)})["TaskRuns"]), 3)
        self.assertIsInstance(bodies[0]["Filter"]["StartedAfter"], int)

    def test_pagination(self):
        first = self.runs(MaxResults=2)
        self.assertEqual(len(first["TaskRuns"]), 2)
        self.assertIn("NextToken", first)
        second = self.runs(MaxResults=2, NextToken=first["NextToken"])
        self.assertEqual(len(second["TaskRuns"]), 1)
        self.assertNotIn("NextToken", second)
        self.assertEqual([r["TaskRunId"] for r in first["TaskRuns"] + second["TaskRuns"]], list(reversed(self.run_ids)))
        self.assertClientError(
            "InvalidInputException",
            self.glue.get_ml_task_runs,
            TransformId=self.transform_id,
            MaxResults=2,
            NextToken=first["NextToken"],
            Filter={"Status": "FAILED"},
        )

    def test_errors(self):
        self.assertClientError("EntityNotFoundException", self.glue.get_ml_task_runs, TransformId=MISSING_TRANSFORM)
        self.assertClientError("ValidationException", self.runs_op, MaxResults=1001)
        self.assertClientError("ValidationException", self.runs_op, Sort={"Column": "NAME", "SortDirection": "ASCENDING"})
        self.assertClientError("ValidationException", self.runs_op, Filter={"TaskRunType": "BOGUS"})
        self.assertClientError("ValidationException", self.runs_op, Filter={"Status": "BOGUS"})
        self.assertClientError("ValidationException", self.raw.get_ml_task_runs)
        with self.assertRaises(ParamValidationError):
            self.runs(MaxResults=0)

    def runs_op(self, **kwargs):
        return self.glue.get_ml_task_runs(TransformId=self.transform_id, **kwargs)


# ==================================================================================================
# Tags
# ==================================================================================================


class TagsTest(GlueTestCase):
    def test_tag_get_untag(self):
        transform_id = self.create_transform()
        arn = transform_arn(transform_id)
        self.assertEqual(self.glue.get_tags(ResourceArn=arn)["Tags"], {})
        resp = self.glue.tag_resource(ResourceArn=arn, TagsToAdd={"team": "data", "env": "dev"})
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.glue.get_tags(ResourceArn=arn)["Tags"], {"team": "data", "env": "dev"})
        self.glue.tag_resource(ResourceArn=arn, TagsToAdd={"env": "prod", "empty": ""})
        self.assertEqual(self.glue.get_tags(ResourceArn=arn)["Tags"], {"team": "data", "env": "prod", "empty": ""})
        resp = self.glue.untag_resource(ResourceArn=arn, TagsToRemove=["team", "not-there"])
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertEqual(self.glue.get_tags(ResourceArn=arn)["Tags"], {"env": "prod", "empty": ""})
        self.assertEqual(self.glue.list_ml_transforms(Tags={"env": "prod"}, MaxResults=1000)["TransformIds"].count(transform_id), 1)

    def test_unknown_transform(self):
        arn = transform_arn(MISSING_TRANSFORM)
        self.assertClientError("EntityNotFoundException", self.glue.get_tags, ResourceArn=arn)
        self.assertClientError("EntityNotFoundException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={"a": "b"})
        self.assertClientError("EntityNotFoundException", self.glue.untag_resource, ResourceArn=arn, TagsToRemove=["a"])

    def test_bad_arns(self):
        transform_id = self.create_transform()
        # matches the model pattern but names an unsupported resource type / another region / account
        for arn in (
            f"arn:aws:glue:{REGION}:{ACCOUNT}:somethingElse/{transform_id}",
            transform_arn(transform_id, region="eu-west-1"),
            transform_arn(transform_id, account="999999999999"),
        ):
            self.assertClientError("InvalidInputException", self.glue.get_tags, ResourceArn=arn)
            self.assertClientError("InvalidInputException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={"a": "b"})
        # violates the model pattern arn:aws(...)?:glue:.*
        self.assertClientError("ValidationException", self.glue.get_tags, ResourceArn=f"arn:aws:s3:::bucket/{transform_id}")
        self.assertClientError("ValidationException", self.glue.tag_resource, ResourceArn="not-an-arn", TagsToAdd={"a": "b"})
        with self.assertRaises(ParamValidationError):
            self.glue.get_tags(ResourceArn="")
        self.assertClientError("ValidationException", self.raw.get_tags, ResourceArn="")

    def test_tag_limits(self):
        transform_id = self.create_transform()
        arn = transform_arn(transform_id)
        self.assertClientError(
            "ValidationException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={f"k{i}": "v" for i in range(51)}
        )
        self.assertClientError("ValidationException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={"k" * 129: "v"})
        self.assertClientError("ValidationException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={"k": "v" * 257})
        self.glue.tag_resource(ResourceArn=arn, TagsToAdd={f"a{i}": "v" for i in range(30)})
        self.assertClientError(
            "InvalidInputException", self.glue.tag_resource, ResourceArn=arn, TagsToAdd={f"b{i}": "v" for i in range(30)}
        )
        self.assertEqual(len(self.glue.get_tags(ResourceArn=arn)["Tags"]), 30)
        self.assertClientError("ValidationException", self.raw.tag_resource, ResourceArn=arn)
        self.assertClientError("ValidationException", self.raw.untag_resource, ResourceArn=arn)
        self.assertClientError("SerializationException", self.raw.tag_resource, ResourceArn=arn, TagsToAdd={"a": 1})

    def test_tags_are_scoped_by_region(self):
        transform_id = self.create_transform(Tags={"a": "b"})
        other = make_client(region="eu-west-1")
        arn = transform_arn(transform_id, region="eu-west-1")
        self.assertClientError("EntityNotFoundException", other.get_tags, ResourceArn=arn)


# ==================================================================================================
# Protocol-level behaviour seen through boto3
# ==================================================================================================


class ProtocolTest(GlueTestCase):
    def test_request_ids_are_unique(self):
        a = self.glue.get_databases(MaxResults=1)["ResponseMetadata"]["RequestId"]
        b = self.glue.get_databases(MaxResults=1)["ResponseMetadata"]["RequestId"]
        self.assertTrue(a and b)
        self.assertNotEqual(a, b)

    def test_unknown_access_key_is_rejected_with_403(self):
        stranger = make_client(access_key="AKIDUNKNOWN", secret_key="whatever")
        with self.assertRaises(ClientError) as cm:
            stranger.get_ml_transforms()
        resp = cm.exception.response
        self.assertEqual(resp["Error"]["Code"], "UnrecognizedClientException")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(resp["ResponseMetadata"].get("RetryAttempts", 0), 0)

    def test_wrong_secret_is_rejected_with_403(self):
        forger = make_client(secret_key="not-the-secret")
        with self.assertRaises(ClientError) as cm:
            forger.list_ml_transforms()
        resp = cm.exception.response
        self.assertEqual(resp["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_responses_use_the_json_1_1_content_type(self):
        headers = self.glue.list_ml_transforms(MaxResults=1)["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers.get("content-type"), "application/x-amz-json-1.1")

    def test_error_responses_carry_the_error_type_header(self):
        with self.assertRaises(ClientError) as cm:
            self.glue.get_ml_transform(TransformId=MISSING_TRANSFORM)
        headers = cm.exception.response["ResponseMetadata"]["HTTPHeaders"]
        self.assertTrue(headers.get("x-amzn-requestid"))
        self.assertEqual(headers.get("x-amzn-errortype", "EntityNotFoundException").split(":")[0], "EntityNotFoundException")


if __name__ == "__main__":
    unittest.main(verbosity=2)
