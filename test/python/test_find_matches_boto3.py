"""The whole FindMatches loop with boto3, as a Python user runs it against doppel.

Uploads a dataset's records.csv with the S3 client, declares a catalog table and a transform over it,
generates a labeling set, labels it from truth.csv, imports it, evaluates, then runs a `findmatches`
Glue job and reads its output back: every input row exactly once, with an integer match_id.

Environment: DOPPEL_ENDPOINT (the server), DOPPEL_DATASET_DIR (a folder with records.csv and truth.csv).
Run by test/integration/find-matches-boto3.test.ts.
"""
import csv
import io
import json
import os
import time
import unittest

try:
    import boto3
    from botocore.config import Config
except ImportError:  # pragma: no cover - reported as a skip
    boto3 = None

ENDPOINT = os.environ.get("DOPPEL_ENDPOINT", "")
DATASET_DIR = os.environ.get("DOPPEL_DATASET_DIR", "")
REGION = "us-east-1"
BUCKET = "boto3-find-matches"
ROLE = "arn:aws:iam::123456789012:role/GlueRole"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"}


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )


@unittest.skipIf(boto3 is None or not ENDPOINT or not DATASET_DIR, "needs boto3, DOPPEL_ENDPOINT and DOPPEL_DATASET_DIR")
class FindMatchesLoop(unittest.TestCase):
    def wait_task(self, glue, transform_id, run_id, timeout=180):
        deadline = time.time() + timeout
        while True:
            run = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
            if run["Status"] in TERMINAL:
                return run
            self.assertLess(time.time(), deadline, f"task run {run_id} still {run['Status']}")
            time.sleep(0.2)

    def wait_job_run(self, glue, job_name, run_id, timeout=180):
        deadline = time.time() + timeout
        while True:
            run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
            if run["JobRunState"] in TERMINAL:
                return run
            self.assertLess(time.time(), deadline, f"job run {run_id} still {run['JobRunState']}")
            time.sleep(0.2)

    def raw_answer(self, glue, method, **params):
        """Calls a Glue operation; returns what boto3 parsed and the raw JSON the server sent (doppel's extension members included)."""
        bodies = []

        def keep(http_response, **_):
            bodies.append(json.loads(http_response.content))

        event = f"after-call.glue.{glue.meta.method_to_api_mapping[method]}"
        glue.meta.events.register(event, keep)
        try:
            parsed = getattr(glue, method)(**params)
        finally:
            glue.meta.events.unregister(event, keep)
        return parsed, bodies[0]

    def read_text(self, s3, key):
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("utf-8")

    def test_whole_loop(self):
        glue = client("glue")
        s3 = client("s3")
        with open(os.path.join(DATASET_DIR, "records.csv"), "rb") as f:
            records_bytes = f.read()
        records = list(csv.DictReader(io.StringIO(records_bytes.decode("utf-8"))))
        header = list(records[0].keys())
        with open(os.path.join(DATASET_DIR, "truth.csv"), encoding="utf-8") as f:
            truth = {row["id"]: row["entity_id"] for row in csv.DictReader(f)}

        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/records.csv", Body=records_bytes)
        glue.create_database(DatabaseInput={"Name": "boto3db"})
        glue.create_table(
            DatabaseName="boto3db",
            TableInput={
                "Name": "records",
                "Parameters": {"classification": "csv", "skip.header.line.count": "1"},
                "StorageDescriptor": {
                    "Columns": [{"Name": h, "Type": "string"} for h in header],
                    "Location": f"s3://{BUCKET}/data/",
                    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde"},
                },
            },
        )
        transform_id = glue.create_ml_transform(
            Name="boto3-loop",
            Role=ROLE,
            InputRecordTables=[{"DatabaseName": "boto3db", "TableName": "records"}],
            Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "id"}},
        )["TransformId"]

        # Teach: generate a labeling set, label it from the truth, import it.
        run_id = glue.start_ml_labeling_set_generation_task_run(
            TransformId=transform_id, OutputS3Path=f"s3://{BUCKET}/labeling/"
        )["TaskRunId"]
        run = self.wait_task(glue, transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED", run.get("ErrorString"))
        rows = list(csv.reader(io.StringIO(self.read_text(s3, "labeling/part-00000.csv"))))
        self.assertEqual(rows[0], ["labeling_set_id", "label"] + header)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(rows[0])
        for r in rows[1:]:
            writer.writerow([r[0], truth[r[2]]] + r[2:])
        s3.put_object(Bucket=BUCKET, Key="labels/labels.csv", Body=out.getvalue().encode("utf-8"))
        run_id = glue.start_import_labels_task_run(
            TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/labels/labels.csv"
        )["TaskRunId"]
        run = self.wait_task(glue, transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED", run.get("ErrorString"))
        self.assertEqual(glue.get_ml_transform(TransformId=transform_id)["Status"], "READY")

        # Estimate quality.
        run_id = glue.start_ml_evaluation_task_run(TransformId=transform_id)["TaskRunId"]
        run = self.wait_task(glue, transform_id, run_id)
        self.assertEqual(run["Status"], "SUCCEEDED", run.get("ErrorString"))
        metrics = glue.get_ml_transform(TransformId=transform_id)["EvaluationMetrics"]
        self.assertEqual(metrics["TransformType"], "FIND_MATCHES")
        for key in ("AreaUnderPRCurve", "Precision", "Recall", "F1"):
            value = metrics["FindMatchesMetrics"].get(key)
            if value is not None:
                self.assertTrue(0 <= value <= 1, f"{key} = {value}")
        # doppel's extension members: boto3 drops them (they are not in Glue's model), the raw answer has them.
        parsed, raw = self.raw_answer(glue, "get_ml_transform", TransformId=transform_id)
        self.assertNotIn("PrecisionRecallCurve", parsed["EvaluationMetrics"]["FindMatchesMetrics"])
        curve = raw["EvaluationMetrics"]["FindMatchesMetrics"]["PrecisionRecallCurve"]
        self.assertTrue(2 <= len(curve["Points"]) <= 100, curve)
        recalls = [p["Recall"] for p in curve["Points"]]
        self.assertEqual(recalls, sorted(recalls))
        self.assertEqual(set(curve["OperatingPoint"]), {"Threshold", "Precision", "Recall"})
        parsed, raw = self.raw_answer(glue, "get_ml_task_runs", TransformId=transform_id, Filter={"TaskRunType": "EVALUATION"})
        self.assertEqual([r["TaskRunId"] for r in parsed["TaskRuns"]], [run_id])
        evaluation = raw["TaskRuns"][0]["Properties"]["EvaluationTaskRunProperties"]
        self.assertEqual(evaluation["LabelCount"], glue.get_ml_transform(TransformId=transform_id)["LabelCount"])
        self.assertEqual(evaluation["EvaluationMetrics"]["FindMatchesMetrics"]["PrecisionRecallCurve"], curve)

        # Run the transform as a Glue job.
        glue.create_job(
            Name="boto3-find-matches",
            Role=ROLE,
            Command={"Name": "findmatches"},
            DefaultArguments={"--transform-id": transform_id, "--output-path": f"s3://{BUCKET}/out/"},
        )
        self.assertEqual(glue.get_job(JobName="boto3-find-matches")["Job"]["Command"]["Name"], "findmatches")
        job_run_id = glue.start_job_run(JobName="boto3-find-matches")["JobRunId"]
        job_run = self.wait_job_run(glue, "boto3-find-matches", job_run_id)
        self.assertEqual(job_run["JobRunState"], "SUCCEEDED", job_run.get("ErrorMessage"))
        self.assertIn("CompletedOn", job_run)
        runs = glue.get_job_runs(JobName="boto3-find-matches")["JobRuns"]
        self.assertEqual([r["Id"] for r in runs], [job_run_id])

        task_runs = glue.get_ml_task_runs(TransformId=transform_id, Filter={"TaskRunType": "FIND_MATCHES"})["TaskRuns"]
        props = [t["Properties"].get("FindMatchesTaskRunProperties", {}) for t in task_runs]
        self.assertIn(job_run_id, [p.get("JobRunId") for p in props])

        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="out/")["Contents"])
        # The incremental state for a later incremental run lies beside the output, in a hidden folder readers skip.
        self.assertEqual(keys, ["out/_SUCCESS", "out/_doppel/incremental-state.bin", "out/part-00000.csv"])
        output = list(csv.DictReader(io.StringIO(self.read_text(s3, "out/part-00000.csv"))))
        self.assertEqual(list(output[0].keys()), header + ["match_id"])
        self.assertEqual(sorted(r["id"] for r in output), sorted(r["id"] for r in records))
        for r in output:
            self.assertRegex(r["match_id"], r"^\d+$")


if __name__ == "__main__":
    unittest.main()
