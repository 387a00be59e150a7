"""Crawlers through boto3, against a real server (real crawls in task processes).

Uploads files to doppel's S3 with boto3, crawls them, and checks the tables and partitions the crawl
writes to the Data Catalog: CSV in several dialects, JSON lines, Parquet (files written with DuckDB
by the TypeScript runner, in DOPPEL_PARQUET_DIR), a partitioned folder tree, and second crawls after
new files, a schema change (under both UpdateBehaviors) and removed folders.

Environment:
  DOPPEL_ENDPOINT      server URL (required; the suite skips without it)
  DOPPEL_PARQUET_DIR   folder holding people.parquet (two columns more than the CSV people)

Run from this directory:
  cd test/python && DOPPEL_ENDPOINT=http://127.0.0.1:PORT python3 -m unittest -v test_crawlers_boto3
"""

from __future__ import annotations

import json
import os
import time
import unittest
import uuid

try:
    import boto3
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover - reported as a skip
    boto3 = None

ENDPOINT = os.environ.get("DOPPEL_ENDPOINT", "")
PARQUET_DIR = os.environ.get("DOPPEL_PARQUET_DIR", "")
ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/GlueCrawler"


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@unittest.skipIf(boto3 is None or not ENDPOINT, "needs boto3 and DOPPEL_ENDPOINT")
class CrawlerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.glue = client("glue")
        cls.s3 = client("s3")

    # Helpers -----------------------------------------------------------------------------------

    def bucket_with(self, files):
        bucket = unique("crawl").lower()
        self.s3.create_bucket(Bucket=bucket)
        self.put(bucket, files)
        return bucket

    def put(self, bucket, files):
        for key, body in files.items():
            self.s3.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def database(self):
        name = unique("db").replace("-", "_")
        self.glue.create_database(DatabaseInput={"Name": name})
        return name

    def crawler(self, database, path, **extra):
        name = unique("crawler")
        self.glue.create_crawler(Name=name, Role=ROLE, DatabaseName=database, Targets={"S3Targets": [{"Path": path}]}, **extra)
        return name

    def crawl(self, name, expect="SUCCEEDED"):
        self.glue.start_crawler(Name=name)
        deadline = time.time() + 120
        while time.time() < deadline:
            crawler = self.glue.get_crawler(Name=name)["Crawler"]
            if crawler["State"] == "READY" and "LastCrawl" in crawler:
                self.assertEqual(crawler["LastCrawl"]["Status"], expect, crawler["LastCrawl"])
                return crawler
            time.sleep(0.2)
        self.fail(f"crawler {name} still {crawler['State']} after 120 s")

    def tables(self, database):
        return {t["Name"]: t for t in self.glue.get_tables(DatabaseName=database)["TableList"]}

    @staticmethod
    def columns(table):
        return [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]

    # Definitions ---------------------------------------------------------------------------------

    def test_create_get_update_delete_and_errors(self):
        database = self.database()
        name = unique("crawler")
        self.glue.create_crawler(
            Name=name,
            Role=ROLE,
            DatabaseName=database,
            Description="people files",
            Targets={"S3Targets": [{"Path": "s3://somewhere/people/", "Exclusions": ["**.tmp"], "SampleSize": 5}], "JdbcTargets": []},
            TablePrefix="raw_",
            SchemaChangePolicy={"UpdateBehavior": "LOG"},
            Tags={"team": "crm"},
        )
        crawler = self.glue.get_crawler(Name=name)["Crawler"]
        self.assertEqual(crawler["State"], "READY")
        self.assertEqual(crawler["Version"], 1)
        self.assertEqual(crawler["CrawlElapsedTime"], 0)
        self.assertEqual(crawler["TablePrefix"], "raw_")
        self.assertEqual(crawler["SchemaChangePolicy"], {"UpdateBehavior": "LOG", "DeleteBehavior": "DEPRECATE_IN_DATABASE"})
        self.assertEqual(crawler["RecrawlPolicy"], {"RecrawlBehavior": "CRAWL_EVERYTHING"})
        self.assertEqual(crawler["Targets"]["S3Targets"][0]["Exclusions"], ["**.tmp"])
        self.assertNotIn("LastCrawl", crawler)

        arn = f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/{name}"
        self.assertEqual(self.glue.get_tags(ResourceArn=arn)["Tags"], {"team": "crm"})
        self.assertIn(name, self.glue.list_crawlers(Tags={"team": "crm"})["CrawlerNames"])
        self.assertNotIn(name, self.glue.list_crawlers(Tags={"team": "other"})["CrawlerNames"])
        found = self.glue.batch_get_crawlers(CrawlerNames=[name, "no-such-crawler"])
        self.assertEqual([c["Name"] for c in found["Crawlers"]], [name])
        self.assertEqual(found["CrawlersNotFound"], ["no-such-crawler"])

        self.glue.update_crawler(Name=name, Description="", SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"})
        crawler = self.glue.get_crawler(Name=name)["Crawler"]
        self.assertEqual(crawler["Version"], 2)
        self.assertNotIn("Description", crawler)
        self.assertEqual(crawler["SchemaChangePolicy"]["DeleteBehavior"], "LOG")
        self.assertEqual(crawler["TablePrefix"], "raw_", "members UpdateCrawler leaves out are kept")

        def error(call, code, *words, **kwargs):
            with self.assertRaises(ClientError) as caught:
                call(**kwargs)
            self.assertEqual(caught.exception.response["Error"]["Code"], code)
            for word in words:
                self.assertIn(word, caught.exception.response["Error"]["Message"])

        targets = {"S3Targets": [{"Path": "s3://somewhere/"}]}
        error(self.glue.create_crawler, "AlreadyExistsException", name, Name=name, Role=ROLE, Targets=targets)
        error(self.glue.get_crawler, "EntityNotFoundException", "no-such-crawler", Name="no-such-crawler")
        error(self.glue.update_crawler, "EntityNotFoundException", Name="no-such-crawler", Role=ROLE)
        error(self.glue.delete_crawler, "EntityNotFoundException", Name="no-such-crawler")
        error(self.glue.start_crawler, "EntityNotFoundException", Name="no-such-crawler")
        error(self.glue.stop_crawler, "CrawlerNotRunningException", Name=name)
        error(self.glue.list_crawls, "EntityNotFoundException", CrawlerName="no-such-crawler")
        error(self.glue.create_crawler, "InvalidInputException", "Targets.JdbcTargets", Name=unique("c"), Role=ROLE,
              Targets={"JdbcTargets": [{"ConnectionName": "db", "Path": "db/%"}]})
        error(self.glue.create_crawler, "InvalidInputException", "Schedule", Name=unique("c"), Role=ROLE, Targets=targets,
              Schedule="cron(15 12 * * ? *)")
        error(self.glue.create_crawler, "InvalidInputException", "SampleSize", Name=unique("c"), Role=ROLE,
              Targets={"S3Targets": [{"Path": "s3://somewhere/", "SampleSize": 500}]})
        error(self.glue.create_crawler, "InvalidInputException", "Configuration", Name=unique("c"), Role=ROLE, Targets=targets,
              Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}}))
        error(self.glue.create_crawler, "InvalidInputException", "CRAWL_NEW_FOLDERS_ONLY", Name=unique("c"), Role=ROLE, Targets=targets,
              RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"})

        self.glue.delete_crawler(Name=name)
        error(self.glue.get_crawler, "EntityNotFoundException", Name=name)
        error(self.glue.get_tags, "EntityNotFoundException", ResourceArn=arn)

    # Classification ------------------------------------------------------------------------------

    def test_csv_dialects(self):
        bucket = self.bucket_with({
            "comma/part-0.csv": "id,name,age,score\n1,Ann,31,2.5\n2,Bob,40,3\n",
            "comma/part-1.csv": "id,name,age,score\n3,Cid,29,4.25\n",
            "pipes/data.txt": "1|Ann|true\n2|Bob|false\n3|Cid|true\n",
            "tabs/data.tsv": "code\tcity\tpopulation\nA1\tOslo\t709000\nB2\tBergen\t291000\n",
            "quoted/data.csv": 'id,name,city\n"1","Smith, Ann","Oslo"\n"2","Jones, Bob","Bergen"\n',
            "semi/data.csv": "a;b\nx;y\nz;w\n",
            "comma/_SUCCESS": "",
            "comma/notes.tmp": "not,data,at,all\nx,y,z,w\n",
        })
        database = self.database()
        name = unique("crawler")
        self.glue.create_crawler(Name=name, Role=ROLE, DatabaseName=database, TablePrefix="raw_",
                                 Targets={"S3Targets": [{"Path": f"s3://{bucket}/", "Exclusions": ["**.tmp"]}]})
        self.crawl(name)
        tables = self.tables(database)
        self.assertEqual(sorted(tables), ["raw_comma", "raw_pipes", "raw_quoted", "raw_semi", "raw_tabs"])

        comma = tables["raw_comma"]
        self.assertEqual(self.columns(comma), [("id", "bigint"), ("name", "string"), ("age", "bigint"), ("score", "double")])
        params = comma["Parameters"]
        self.assertEqual(params["classification"], "csv")
        self.assertEqual(params["delimiter"], ",")
        self.assertEqual(params["skip.header.line.count"], "1")
        self.assertEqual(params["areColumnsQuoted"], "false")
        self.assertEqual(params["objectCount"], "2", "the .tmp file is excluded, _SUCCESS is no data")
        self.assertEqual(params["recordCount"], "3")
        self.assertEqual(params["UPDATED_BY_CRAWLER"], name)
        for key in ("typeOfData", "compressionType", "averageRecordSize", "sizeKey", "CrawlerSchemaSerializerVersion", "CrawlerSchemaDeserializerVersion"):
            self.assertIn(key, params)
        self.assertEqual(comma["StorageDescriptor"]["Location"], f"s3://{bucket}/comma/")
        self.assertEqual(comma["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"], "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")
        self.assertEqual(comma["StorageDescriptor"]["SerdeInfo"]["Parameters"], {"field.delim": ","})
        self.assertEqual(comma["PartitionKeys"], [])

        pipes = tables["raw_pipes"]
        self.assertEqual(self.columns(pipes), [("col0", "bigint"), ("col1", "string"), ("col2", "boolean")], "no header: all rows are data")
        self.assertEqual(pipes["Parameters"]["delimiter"], "|")
        self.assertNotIn("skip.header.line.count", pipes["Parameters"])

        tabs = tables["raw_tabs"]
        self.assertEqual(self.columns(tabs), [("code", "string"), ("city", "string"), ("population", "bigint")])
        self.assertEqual(tabs["Parameters"]["delimiter"], "\t")

        quoted = tables["raw_quoted"]
        self.assertEqual(self.columns(quoted), [("id", "bigint"), ("name", "string"), ("city", "string")])
        self.assertEqual(quoted["Parameters"]["areColumnsQuoted"], "true")
        serde = quoted["StorageDescriptor"]["SerdeInfo"]
        self.assertEqual(serde["SerializationLibrary"], "org.apache.hadoop.hive.serde2.OpenCSVSerde")
        self.assertEqual(serde["Parameters"]["separatorChar"], ",")
        self.assertEqual(serde["Parameters"]["quoteChar"], '"')

        # All strings below the first row: nothing tells a header from data, so there is none (AWS's rule).
        self.assertEqual(self.columns(tables["raw_semi"]), [("col0", "string"), ("col1", "string")])

        crawls = self.glue.list_crawls(CrawlerName=name)["Crawls"]
        self.assertEqual(len(crawls), 1)
        self.assertEqual(crawls[0]["State"], "COMPLETED")
        self.assertEqual(json.loads(crawls[0]["Summary"]), {"TABLE": {"ADD": {"Count": 5}}})
        metrics = self.glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
        self.assertEqual((metrics["TablesCreated"], metrics["TablesUpdated"], metrics["TablesDeleted"]), (5, 0, 0))
        self.assertGreater(metrics["LastRuntimeSeconds"], 0)

    def test_json_lines_and_parquet(self):
        with open(os.path.join(PARQUET_DIR, "people.parquet"), "rb") as f:
            parquet = f.read()
        bucket = self.bucket_with({
            "events/day1.json": '{"id": 1, "kind": "click", "ok": true, "tags": ["a"], "at": {"x": 1.5}}\n{"id": 2, "kind": "view", "ok": false, "tags": [], "at": {"x": 2}}\n',
            "events/day2.json": '{"id": 3, "kind": "view", "ok": true, "tags": ["b"], "at": {"x": 0.5}}\n',
            "people/part-0.parquet": parquet,
        })
        database = self.database()
        name = self.crawler(database, f"s3://{bucket}/")
        self.crawl(name)
        tables = self.tables(database)
        events = tables["events"]
        self.assertEqual(self.columns(events), [("id", "bigint"), ("kind", "string"), ("ok", "boolean"), ("tags", "array<string>"), ("at", "struct<x:double>")])
        self.assertEqual(events["Parameters"]["classification"], "json")
        self.assertEqual(events["Parameters"]["recordCount"], "3")
        self.assertEqual(events["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"], "org.openx.data.jsonserde.JsonSerDe")
        people = tables["people"]
        self.assertEqual(self.columns(people), [("id", "int"), ("name", "string"), ("score", "double"), ("born", "date"), ("seen", "timestamp"), ("active", "boolean")])
        self.assertEqual(people["Parameters"]["classification"], "parquet")
        self.assertEqual(people["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"], "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
        self.assertEqual(people["StorageDescriptor"]["InputFormat"], "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
        self.assertEqual(people["Parameters"]["recordCount"], "3")

    # Partitions and second crawls ----------------------------------------------------------------

    def test_partitioned_tree_and_second_crawls(self):
        row = lambda i, extra="": json.dumps({"id": i, "amount": i * 1.5, "item": f"sku-{i}", "qty": i % 3, **({"channel": extra} if extra else {})}) + "\n"
        bucket = self.bucket_with({
            "sales/year=2023/month=11/a.json": row(1) + row(2),
            "sales/year=2023/month=12/b.json": row(3),
            "logs/eu/x.csv": "ts,level\n1,INFO\n2,WARN\n",
            "logs/us/y.csv": "ts,level\n3,INFO\n",
        })
        database = self.database()
        name = self.crawler(database, f"s3://{bucket}/", SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "DELETE_FROM_DATABASE"})
        self.crawl(name)
        tables = self.tables(database)
        self.assertEqual(sorted(tables), ["logs", "sales"])
        sales = tables["sales"]
        self.assertEqual(sales["PartitionKeys"], [{"Name": "year", "Type": "string"}, {"Name": "month", "Type": "string"}])
        self.assertEqual(self.columns(sales), [("id", "bigint"), ("amount", "double"), ("item", "string"), ("qty", "bigint")])
        self.assertEqual(sales["StorageDescriptor"]["Location"], f"s3://{bucket}/sales/")

        def partitions(table):
            found = self.glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
            return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in found}

        self.assertEqual(partitions("sales"), {
            ("2023", "11"): f"s3://{bucket}/sales/year=2023/month=11/",
            ("2023", "12"): f"s3://{bucket}/sales/year=2023/month=12/",
        })
        # Folders that are not key=value are partitions too, named as Glue names them.
        self.assertEqual(tables["logs"]["PartitionKeys"], [{"Name": "partition_0", "Type": "string"}])
        self.assertEqual(sorted(partitions("logs")), [("eu",), ("us",)])
        self.assertEqual(self.columns(tables["logs"]), [("ts", "bigint"), ("level", "string")])
        version = sales["VersionId"]

        # New files: a new partition, and a new column in it, which LOG leaves out of the table.
        self.put(bucket, {"sales/year=2024/month=01/c.json": row(4, "web") + row(5, "shop")})
        self.crawl(name)
        self.assertIn(("2024", "01"), partitions("sales"))
        sales = self.glue.get_table(DatabaseName=database, Name="sales")["Table"]
        self.assertEqual(self.columns(sales), [("id", "bigint"), ("amount", "double"), ("item", "string"), ("qty", "bigint")], "UpdateBehavior LOG leaves the table")
        self.assertEqual(sales["VersionId"], version)
        crawls = self.glue.list_crawls(CrawlerName=name)["Crawls"]
        self.assertEqual(json.loads(crawls[0]["Summary"]), {"PARTITION": {"ADD": {"Count": 1}}}, "newest first")

        # The same change under UPDATE_IN_DATABASE: the table gains the column, the old definition is a version.
        self.glue.update_crawler(Name=name, SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DELETE_FROM_DATABASE"})
        self.crawl(name)
        sales = self.glue.get_table(DatabaseName=database, Name="sales")["Table"]
        self.assertEqual(self.columns(sales), [("id", "bigint"), ("amount", "double"), ("item", "string"), ("qty", "bigint"), ("channel", "string")])
        self.assertNotEqual(sales["VersionId"], version)
        versions = self.glue.get_table_versions(DatabaseName=database, TableName="sales")["TableVersions"]
        self.assertIn(version, [v["VersionId"] for v in versions])
        metrics = self.glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
        self.assertEqual(metrics["TablesUpdated"], 1)

        # Removed folders: DELETE_FROM_DATABASE deletes the partition and the table that are gone.
        self.s3.delete_object(Bucket=bucket, Key="sales/year=2023/month=11/a.json")
        for key in ("logs/eu/x.csv", "logs/us/y.csv"):
            self.s3.delete_object(Bucket=bucket, Key=key)
        self.crawl(name)
        self.assertNotIn(("2023", "11"), partitions("sales"))
        self.assertEqual(sorted(self.tables(database)), ["sales"])
        metrics = self.glue.get_crawler_metrics(CrawlerNameList=[name])["CrawlerMetricsList"][0]
        self.assertEqual(metrics["TablesDeleted"], 1)
        self.assertEqual(len(self.glue.list_crawls(CrawlerName=name)["Crawls"]), 4)
        completed = self.glue.list_crawls(CrawlerName=name, Filters=[{"FieldName": "STATE", "FilterOperator": "EQ", "FieldValue": "COMPLETED"}])
        self.assertEqual(len(completed["Crawls"]), 4)

    def test_deprecate_and_failures(self):
        bucket = self.bucket_with({"orders/a.csv": "id,total\n1,9.5\n2,3\n"})
        database = self.database()
        name = self.crawler(database, f"s3://{bucket}/")
        self.crawl(name)
        self.s3.delete_object(Bucket=bucket, Key="orders/a.csv")
        self.crawl(name)
        orders = self.glue.get_table(DatabaseName=database, Name="orders")["Table"]
        self.assertIn("DEPRECATED_BY_CRAWLER", orders["Parameters"], "the default DeleteBehavior DEPRECATE_IN_DATABASE marks the table")

        missing = self.crawler("no_such_database", f"s3://{bucket}/")
        crawler = self.crawl(missing, expect="FAILED")
        self.assertIn("no_such_database", crawler["LastCrawl"]["ErrorMessage"])
        self.assertEqual(self.glue.list_crawls(CrawlerName=missing)["Crawls"][0]["State"], "FAILED")

    def test_crawled_table_feeds_a_transform(self):
        rows = "".join(f"r{i},{name},{1980 + i % 7}\n" for i, name in enumerate(["Ann Lee", "Ann Lee", "Bob Stone", "Rob Stone", "Cid Moss", "Sid Moss"] * 5))
        bucket = self.bucket_with({"people/records.csv": "id,name,born\n" + rows})
        database = self.database()
        name = self.crawler(database, f"s3://{bucket}/people/")
        self.crawl(name)
        transform = self.glue.create_ml_transform(
            Name=unique("dedupe"),
            Role=ROLE,
            InputRecordTables=[{"DatabaseName": database, "TableName": "people"}],
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
        )["TransformId"]
        schema = self.glue.get_ml_transform(TransformId=transform)["Schema"]
        self.assertEqual(schema, [{"Name": "id", "DataType": "string"}, {"Name": "name", "DataType": "string"}, {"Name": "born", "DataType": "bigint"}])
        run = self.glue.start_ml_labeling_set_generation_task_run(TransformId=transform, OutputS3Path=f"s3://{bucket}/labeling/")["TaskRunId"]
        deadline = time.time() + 120
        while time.time() < deadline:
            status = self.glue.get_ml_task_run(TransformId=transform, TaskRunId=run)
            if status["Status"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"):
                break
            time.sleep(0.5)
        self.assertEqual(status["Status"], "SUCCEEDED", status.get("ErrorString"))


if __name__ == "__main__":
    unittest.main()
