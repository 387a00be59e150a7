"""boto3 suite for doppel's S3-compatible endpoint (the embedded object store).

Drives the endpoint through an unmodified boto3 ``s3`` client: buckets, put/get/head/list (with
pagination and delimiters), delete_objects, a multipart upload through ``upload_file``,
list_multipart_uploads with its paginator, a presigned GET URL and the error codes boto3 users catch.

Environment:
  DOPPEL_ENDPOINT   server URL, e.g. http://127.0.0.1:4587 (required; the suite skips without it)

Run from this directory (``test`` is also the name of a stdlib package, so not from the repo root):
  cd test/python && DOPPEL_ENDPOINT=http://127.0.0.1:PORT python3 -m unittest -v test_s3_boto3
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid
from xml.etree import ElementTree

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover - reported as a skip
    boto3 = None

ENDPOINT = os.environ.get("DOPPEL_ENDPOINT", "")
MB = 1024 * 1024


def make_client(region_name="us-east-1", **config):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=region_name,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


@unittest.skipIf(boto3 is None, "boto3 is not installed")
@unittest.skipIf(not ENDPOINT, "DOPPEL_ENDPOINT is not set")
class S3Boto3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = make_client()

    def new_bucket(self) -> str:
        name = f"py-{uuid.uuid4().hex[:20]}"
        self.s3.create_bucket(Bucket=name)
        return name

    def assert_client_error(self, code: str, status: int, call, *args, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        error = caught.exception.response
        self.assertEqual(error["Error"]["Code"], code, error)
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], status, error)
        self.assertTrue(error["ResponseMetadata"].get("RequestId"), error)
        return error

    def test_buckets(self):
        bucket = self.new_bucket()
        names = [b["Name"] for b in self.s3.list_buckets()["Buckets"]]
        self.assertIn(bucket, names)
        self.s3.head_bucket(Bucket=bucket)
        location = self.s3.get_bucket_location(Bucket=bucket)
        self.assertIsNone(location.get("LocationConstraint"))
        # Creating one's own bucket again: 200 in us-east-1 (S3's legacy behaviour), 409 in other regions.
        self.s3.create_bucket(Bucket=bucket)
        self.assert_client_error("BucketAlreadyOwnedByYou", 409, make_client(region_name="eu-west-1").create_bucket,
                                 Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.s3.delete_bucket(Bucket=bucket)
        self.assert_client_error("404", 404, self.s3.head_bucket, Bucket=bucket)

    def test_list_buckets_with_prefix_and_pages(self):
        # ListBuckets' Prefix and MaxBuckets (found by moto's tests): name order, a ContinuationToken
        # while more are left, and boto3's paginator follows it.
        tag = uuid.uuid4().hex[:12]
        names = sorted(f"lb-{tag}-{n}" for n in ("c", "a", "b"))
        for name in names:
            self.s3.create_bucket(Bucket=name)
        first = self.s3.list_buckets(Prefix=f"lb-{tag}-", MaxBuckets=2)
        self.assertEqual([b["Name"] for b in first["Buckets"]], names[:2])
        self.assertEqual(first["Prefix"], f"lb-{tag}-")
        second = self.s3.list_buckets(Prefix=f"lb-{tag}-", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
        self.assertEqual([b["Name"] for b in second["Buckets"]], names[2:])
        self.assertNotIn("ContinuationToken", second)
        pages = self.s3.get_paginator("list_buckets").paginate(Prefix=f"lb-{tag}-", PaginationConfig={"PageSize": 1})
        self.assertEqual([b["Name"] for page in pages for b in page["Buckets"]], names)
        for name in names:
            self.s3.delete_bucket(Bucket=name)

    def test_put_get_head_with_metadata(self):
        bucket = self.new_bucket()
        body = b"name,city\nann,paris\n"
        put = self.s3.put_object(Bucket=bucket, Key="data/people.csv", Body=body, ContentType="text/csv",
                                 Metadata={"source": "unit-test"})
        self.assertEqual(put["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = self.s3.get_object(Bucket=bucket, Key="data/people.csv")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "text/csv")
        self.assertEqual(got["ContentLength"], len(body))
        self.assertEqual(got["Metadata"], {"source": "unit-test"})
        self.assertEqual(got["ETag"], put["ETag"])
        head = self.s3.head_object(Bucket=bucket, Key="data/people.csv")
        self.assertEqual(head["ContentLength"], len(body))
        self.assertEqual(head["LastModified"], got["LastModified"])
        ranged = self.s3.get_object(Bucket=bucket, Key="data/people.csv", Range="bytes=0-3")
        self.assertEqual(ranged["Body"].read(), b"name")
        self.assertEqual(ranged["ContentRange"], "bytes 0-3/%d" % len(body))
        self.assertEqual(ranged["ResponseMetadata"]["HTTPStatusCode"], 206)
        # If-None-Match with the current ETag: not modified.
        self.assert_client_error("304", 304, self.s3.get_object, Bucket=bucket, Key="data/people.csv",
                                 IfNoneMatch=put["ETag"])
        self.assert_client_error("PreconditionFailed", 412, self.s3.get_object, Bucket=bucket,
                                 Key="data/people.csv", IfMatch='"0123"')

    def test_list_pagination_and_delimiter(self):
        bucket = self.new_bucket()
        keys = [f"logs/2024/{i}.log" for i in range(5)]
        for key in keys + ["logs/2025/a.log", "readme.txt", "z/\u00e9t\u00e9 caf\u00e9+plus.txt"]:
            self.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

        first = self.s3.list_objects_v2(Bucket=bucket, Prefix="logs/2024/", MaxKeys=2)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(first["KeyCount"], 2)
        self.assertEqual([o["Key"] for o in first["Contents"]], keys[:2])
        seen = [o["Key"] for o in first["Contents"]]
        token = first["NextContinuationToken"]
        pages = 1
        while token:
            page = self.s3.list_objects_v2(Bucket=bucket, Prefix="logs/2024/", MaxKeys=2, ContinuationToken=token)
            seen += [o["Key"] for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            pages += 1
        self.assertEqual(seen, keys)
        self.assertEqual(pages, 3)

        paginator = self.s3.get_paginator("list_objects_v2")
        paged = [o["Key"] for p in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
                 for o in p.get("Contents", [])]
        self.assertEqual(len(paged), 8)
        self.assertEqual(paged, sorted(paged, key=lambda k: k.encode("utf-8")))
        self.assertIn("z/\u00e9t\u00e9 caf\u00e9+plus.txt", paged)

        top = self.s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        self.assertEqual([p["Prefix"] for p in top["CommonPrefixes"]], ["logs/", "z/"])
        self.assertEqual([o["Key"] for o in top["Contents"]], ["readme.txt"])
        years = self.s3.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/")
        self.assertEqual([p["Prefix"] for p in years["CommonPrefixes"]], ["logs/2024/", "logs/2025/"])

        v1 = self.s3.list_objects(Bucket=bucket, Prefix="logs/2024/", MaxKeys=3)
        self.assertTrue(v1["IsTruncated"])
        rest = self.s3.list_objects(Bucket=bucket, Prefix="logs/2024/", Marker=v1["Contents"][-1]["Key"])
        self.assertEqual([o["Key"] for o in v1["Contents"] + rest["Contents"]], keys)

    def test_delete_objects(self):
        bucket = self.new_bucket()
        for key in ["a", "b", "c"]:
            self.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        out = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "nope"}]})
        self.assertEqual(sorted(d["Key"] for d in out["Deleted"]), ["a", "b", "nope"])
        self.assertEqual([o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket)["Contents"]], ["c"])
        quiet = self.s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
        self.assertNotIn("Deleted", quiet)
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)["KeyCount"], 0)

    def test_multipart_upload_file_and_download_file(self):
        bucket = self.new_bucket()
        data = os.urandom(13 * MB + 123)
        config = TransferConfig(multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "source.bin")
            with open(source, "wb") as f:
                f.write(data)
            self.s3.upload_file(source, bucket, "big/source.bin", Config=config)
            head = self.s3.head_object(Bucket=bucket, Key="big/source.bin")
            self.assertEqual(head["ContentLength"], len(data))
            self.assertRegex(head["ETag"], r'^"[0-9a-f]{32}-3"$')
            target = os.path.join(tmp, "target.bin")
            self.s3.download_file(bucket, "big/source.bin", target, Config=config)
            with open(target, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest())
        buffer = io.BytesIO()
        self.s3.download_fileobj(bucket, "big/source.bin", buffer)
        self.assertEqual(buffer.getvalue(), data)
        # A managed copy of a large object goes through UploadPartCopy.
        self.s3.copy({"Bucket": bucket, "Key": "big/source.bin"}, bucket, "big/copy.bin", Config=config)
        copied = self.s3.get_object(Bucket=bucket, Key="big/copy.bin")["Body"].read()
        self.assertEqual(copied, data)

    def test_a_small_part_before_the_last_is_entity_too_small_with_s3s_message_and_members(self):
        bucket = self.new_bucket()
        upload_id = self.s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
        parts = [{"PartNumber": n, "ETag": self.s3.upload_part(Bucket=bucket, Key="small", UploadId=upload_id,
                                                              PartNumber=n, Body=b"x" * 10)["ETag"]} for n in (1, 2)]
        error = self.assert_client_error("EntityTooSmall", 400, self.s3.complete_multipart_upload, Bucket=bucket,
                                         Key="small", UploadId=upload_id, MultipartUpload={"Parts": parts})
        # S3's fixed message (found by moto's tests); the sizes are members of their own.
        self.assertEqual(error["Error"]["Message"], "Your proposed upload is smaller than the minimum allowed object size.")
        self.assertEqual(error["Error"].get("ProposedSize"), "10")
        self.assertEqual(error["Error"].get("MinSizeAllowed"), str(5 * 1024 * 1024))
        self.assertEqual(error["Error"].get("PartNumber"), "1")

    def test_bad_part_numbers_and_list_parts_arguments_are_refused_with_s3s_messages(self):
        # The messages and members S3 answers (found by moto's tests).
        bucket = self.new_bucket()
        upload_id = self.s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        error = self.assert_client_error("InvalidArgument", 400, self.s3.upload_part, Bucket=bucket, Key="k",
                                         UploadId=upload_id, PartNumber=10001, Body=b"x")
        self.assertEqual(error["Error"]["Message"], "Part number must be an integer between 1 and 10000, inclusive")
        self.assertEqual(error["Error"].get("ArgumentName"), "partNumber")
        self.assertEqual(error["Error"].get("ArgumentValue"), "10001")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.list_parts, Bucket=bucket, Key="k",
                                         UploadId=upload_id, MaxParts=-42)
        self.assertEqual(error["Error"]["Message"], "Argument max-parts must be an integer between 0 and 2147483647")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.list_parts, Bucket=bucket, Key="k",
                                         UploadId=upload_id, PartNumberMarker=2147483689)
        self.assertEqual(error["Error"]["Message"], "Provided part-number-marker not an integer or within integer range")
        self.assertEqual(error["Error"].get("ArgumentValue"), "2147483689")
        self.s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)

    def test_completing_with_no_parts_is_malformed_xml_with_s3s_message_and_a_detail(self):
        bucket = self.new_bucket()
        upload_id = self.s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
        error = self.assert_client_error("MalformedXML", 400, self.s3.complete_multipart_upload, Bucket=bucket, Key="k",
                                         UploadId=upload_id, MultipartUpload={"Parts": []})
        # S3's fixed message (found by moto's tests); what is wrong is in Detail.
        self.assertEqual(error["Error"]["Message"],
                         "The XML you provided was not well-formed or did not validate against our published schema")
        self.assertIn("at least one part", error["Error"].get("Detail", ""))
        self.s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)

    def test_head_object_with_a_range(self):
        # HEAD shows the range GET would serve; one starting past the end is 416 (found by moto's tests).
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="f1", Body=b"f1")
        headers = self.s3.head_object(Bucket=bucket, Key="f1", Range="bytes=1-9")["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers["content-range"], "bytes 1-1/2")
        self.assertEqual(headers["content-length"], "1")
        for invalid in ("bytes=5-9", "bytes=2-"):
            self.assert_client_error("416", 416, self.s3.head_object, Bucket=bucket, Key="f1", Range=invalid)

    def test_list_multipart_uploads_and_abort_what_is_found(self):
        bucket = self.new_bucket()
        created = []
        for key in ["logs/b", "logs/a", "top", "logs/a"]:
            created.append((key, self.s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
            time.sleep(0.01)  # uploads of one key are listed in the order they were initiated
        expected = sorted(created, key=lambda upload: upload[0])  # stable: the two logs/a keep their order
        # boto3's paginator follows NextKeyMarker / NextUploadIdMarker.
        pages = self.s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, PaginationConfig={"PageSize": 1})
        listed = [(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])]
        self.assertEqual(listed, expected)
        rolled = self.s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
        self.assertEqual([u["Key"] for u in rolled["Uploads"]], ["top"])
        self.assertEqual([p["Prefix"] for p in rolled["CommonPrefixes"]], ["logs/"])
        self.assertEqual(len(self.s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/a")["Uploads"]), 2)
        # What a listing finds can be aborted; afterwards nothing is left.
        for upload in self.s3.list_multipart_uploads(Bucket=bucket)["Uploads"]:
            self.s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        self.assertNotIn("Uploads", self.s3.list_multipart_uploads(Bucket=bucket))
        self.assert_client_error("NoSuchBucket", 404, self.s3.list_multipart_uploads, Bucket=f"{bucket}-missing")

    def test_copy_from_a_missing_source_names_the_source_key(self):
        # As S3 answers (found by moto's tests, verified there against AWS).
        bucket = self.new_bucket()
        error = self.assert_client_error("NoSuchKey", 404, self.s3.copy_object, Bucket=bucket, Key="newkey",
                                         CopySource={"Bucket": bucket, "Key": "foofoofoo"})
        self.assertEqual(error["Error"]["Message"], "The specified key does not exist.")
        self.assertEqual(error["Error"].get("Key"), "foofoofoo")

    def test_copy_object(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/plain", Metadata={"k": "v"})
        out = self.s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
        self.assertEqual(out["CopyObjectResult"]["ETag"], '"%s"' % hashlib.md5(b"payload").hexdigest())
        head = self.s3.head_object(Bucket=bucket, Key="dst")
        self.assertEqual(head["Metadata"], {"k": "v"})
        replaced = self.s3.copy_object(Bucket=bucket, Key="dst2", CopySource=f"{bucket}/src",
                                       MetadataDirective="REPLACE", ContentType="application/json",
                                       Metadata={"new": "yes"})
        self.assertTrue(replaced["CopyObjectResult"]["ETag"])
        head2 = self.s3.head_object(Bucket=bucket, Key="dst2")
        self.assertEqual((head2["ContentType"], head2["Metadata"]), ("application/json", {"new": "yes"}))
        self.assert_client_error("InvalidRequest", 400, self.s3.copy_object, Bucket=bucket, Key="src",
                                 CopySource={"Bucket": bucket, "Key": "src"})

    def test_presigned_get_url(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="shared/report.txt", Body=b"presigned content")
        url = self.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"},
                                             ExpiresIn=300)
        self.assertIn("X-Amz-Signature=", url)
        with urllib.request.urlopen(url) as response:
            self.assertEqual(response.read(), b"presigned content")
        tampered = url.replace("report.txt", "other.txt")
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(tampered)
        self.assertEqual(caught.exception.code, 403)
        self.assertIn(b"<Code>SignatureDoesNotMatch</Code>", caught.exception.read())
        put_url = self.s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "shared/upload.txt"},
                                                 ExpiresIn=300)
        request = urllib.request.Request(put_url, data=b"uploaded via presigned PUT", method="PUT")
        with urllib.request.urlopen(request) as response:
            self.assertEqual(response.status, 200)
        body = self.s3.get_object(Bucket=bucket, Key="shared/upload.txt")["Body"].read()
        self.assertEqual(body, b"uploaded via presigned PUT")

    def test_signature_version_2_is_refused_with_the_way_to_sigv4(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key="shared/report.txt", Body=b"presigned content")
        # No signature_version: boto3 presigns S3 URLs with Signature Version 2 by default.
        default_client = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test",
                                      aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
        url = default_client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"},
                                                    ExpiresIn=300)
        self.assertIn("AWSAccessKeyId=", url)
        self.assertIn("Signature=", url)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url)
        self.assertEqual(caught.exception.code, 400)
        error = ElementTree.fromstring(caught.exception.read())
        self.assertEqual(error.findtext("Code"), "InvalidRequest")
        self.assertEqual(error.findtext("Message"), "The authorization mechanism you have provided is not supported. "
                                                    "Please use AWS4-HMAC-SHA256.")
        detail = error.findtext("Detail")
        self.assertTrue(detail.startswith("This presigned URL (AWSAccessKeyId, Signature, Expires) is signed with "
                                          "Signature Version 2"), detail)
        self.assertIn("signature_version='s3v4'", detail)
        self.assertIn("aws configure set default.s3.signature_version s3v4", detail)
        # Following the advice works.
        v4_url = make_client().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"},
                                                      ExpiresIn=300)
        with urllib.request.urlopen(v4_url) as response:
            self.assertEqual(response.read(), b"presigned content")

    def test_errors(self):
        bucket = self.new_bucket()
        error = self.assert_client_error("NoSuchKey", 404, self.s3.get_object, Bucket=bucket, Key="missing/key")
        self.assertEqual(error["Error"].get("Key"), "missing/key")
        self.assertEqual(error["Error"]["Message"], "The specified key does not exist.")
        error = self.assert_client_error("NoSuchBucket", 404, self.s3.get_object, Bucket="no-such-bucket-x", Key="k")
        # S3's fixed messages, which SDKs and tools match on; the names go into their own members
        # (found by moto's tests).
        self.assertEqual(error["Error"]["Message"], "The specified bucket does not exist")
        self.assertEqual(error["Error"].get("BucketName"), "no-such-bucket-x")
        self.assert_client_error("NoSuchBucket", 404, self.s3.list_objects_v2, Bucket="no-such-bucket-x")
        self.assert_client_error("NoSuchBucket", 404, self.s3.put_object, Bucket="no-such-bucket-x", Key="k", Body=b"x")
        self.assert_client_error("404", 404, self.s3.head_object, Bucket=bucket, Key="missing")
        error = self.assert_client_error("NoSuchUpload", 404, self.s3.list_parts, Bucket=bucket, Key="k", UploadId="nope")
        self.assertEqual(error["Error"]["Message"], "The specified upload does not exist. The upload ID may be invalid, "
                         "or the upload may have been aborted or completed.")
        self.assertEqual(error["Error"].get("UploadId"), "nope")
        self.s3.put_object(Bucket=bucket, Key="r", Body=b"abc")
        error = self.assert_client_error("InvalidRange", 416, self.s3.get_object, Bucket=bucket, Key="r", Range="bytes=10-20")
        self.assertEqual(error["Error"]["Message"], "The requested range is not satisfiable")
        self.assertEqual(error["Error"].get("RangeRequested"), "bytes=10-20")
        self.assertEqual(error["Error"].get("ActualObjectSize"), "3")
        error = self.assert_client_error("BucketNotEmpty", 409, self.s3.delete_bucket, Bucket=bucket)
        self.assertEqual(error["Error"]["Message"], "The bucket you tried to delete is not empty")
        self.assertEqual(error["Error"].get("BucketName"), bucket)
        wrong = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1", aws_access_key_id="test",
                             aws_secret_access_key="wrong",
                             config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                           retries={"max_attempts": 1}))
        with self.assertRaises(ClientError) as caught:
            wrong.list_objects_v2(Bucket=bucket)
        self.assertEqual(caught.exception.response["Error"]["Code"], "SignatureDoesNotMatch")


if __name__ == "__main__":
    unittest.main()
