"""boto3 suite for the attributes S3 keeps with an object (doppel's embedded store).

Storage class, content headers, website redirect, SSE headers and tags through PutObject,
CopyObject (metadata and tagging directives, copies in place), multipart uploads and the object
tagging operations; the refusals for archived objects, invalid values, SSE-C and object lock.

Environment:
  DOPPEL_ENDPOINT   server URL, e.g. http://127.0.0.1:4587 (required; the suite skips without it)

Run from this directory:
  cd test/python && DOPPEL_ENDPOINT=http://127.0.0.1:PORT python3 -m unittest -v test_s3_object_attributes_boto3
"""

from __future__ import annotations

import datetime
import os
import unittest
import uuid

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:  # pragma: no cover - reported as a skip
    boto3 = None

ENDPOINT = os.environ.get("DOPPEL_ENDPOINT", "")
MB = 1024 * 1024
CONTENT = {
    "CacheControl": "max-age=60",
    "ContentDisposition": 'attachment; filename="people.csv"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "fr-FR",
    "ContentType": "text/csv",
}
KMS = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/doppel-test", "BucketKeyEnabled": True}


@unittest.skipIf(boto3 is None, "boto3 is not installed")
@unittest.skipIf(not ENDPOINT, "DOPPEL_ENDPOINT is not set")
class S3ObjectAttributesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = boto3.client(
            "s3",
            endpoint_url=ENDPOINT,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def setUp(self):
        self.bucket = f"attrs-{uuid.uuid4().hex[:20]}"
        self.s3.create_bucket(Bucket=self.bucket)

    def assert_client_error(self, code: str, status: int, call, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        error = caught.exception.response
        self.assertEqual(error["Error"]["Code"], code, error)
        self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], status, error)
        return error["Error"]

    def listed_classes(self) -> dict[str, str]:
        v2 = {o["Key"]: o["StorageClass"] for o in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])}
        v1 = {o["Key"]: o["StorageClass"] for o in self.s3.list_objects(Bucket=self.bucket).get("Contents", [])}
        self.assertEqual(v1, v2)
        return v2

    def test_put_keeps_content_headers_storage_class_and_redirect(self):
        expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"data", StorageClass="STANDARD_IA", Expires=expires,
                           WebsiteRedirectLocation="https://example.com/elsewhere", **CONTENT)
        for answer in (self.s3.head_object(Bucket=self.bucket, Key="k"), self.s3.get_object(Bucket=self.bucket, Key="k")):
            for name, value in CONTENT.items():
                self.assertEqual(answer[name], value, name)
            self.assertEqual(answer["ExpiresString"], "Wed, 02 Jan 2030 03:04:05 GMT")
            self.assertEqual(answer["StorageClass"], "STANDARD_IA")
            self.assertEqual(answer["WebsiteRedirectLocation"], "https://example.com/elsewhere")
        self.assertEqual(self.listed_classes(), {"k": "STANDARD_IA"})

    def test_aws_chunked_is_not_kept_as_content_encoding(self):
        # aws-chunked names the framing of a streamed request body; S3 keeps the object without it.
        self.s3.put_object(Bucket=self.bucket, Key="both", Body=b"x", ContentEncoding="aws-chunked,gzip")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="both")["ContentEncoding"], "gzip")
        self.s3.put_object(Bucket=self.bucket, Key="framing", Body=b"x", ContentEncoding="aws-chunked")
        self.assertNotIn("ContentEncoding", self.s3.head_object(Bucket=self.bucket, Key="framing"))

    def test_standard_is_listed_but_not_named_on_get_and_head(self):
        self.s3.put_object(Bucket=self.bucket, Key="default", Body=b"x")
        self.s3.put_object(Bucket=self.bucket, Key="explicit", Body=b"x", StorageClass="STANDARD")
        self.assertEqual(self.listed_classes(), {"default": "STANDARD", "explicit": "STANDARD"})
        for key in ("default", "explicit"):
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
            self.assertNotIn("x-amz-storage-class", head["ResponseMetadata"]["HTTPHeaders"])
            self.assertNotIn("ContentEncoding", head)
            self.assertNotIn("WebsiteRedirectLocation", head)
            self.assertNotIn("ServerSideEncryption", head)

    def test_invalid_values_are_refused_naming_them(self):
        error = self.assert_client_error("InvalidStorageClass", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", StorageClass="STANDARDD")
        self.assertEqual(error["Message"], "The storage class you specified is not valid")
        self.assertEqual(error["StorageClassRequested"], "STANDARDD")
        # Classes of other kinds of storage (Outposts, directory buckets) are not a general bucket's.
        self.assert_client_error("InvalidStorageClass", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                 Body=b"x", StorageClass="OUTPOSTS")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", ServerSideEncryption="rot13")
        self.assertEqual(error["ArgumentName"], "x-amz-server-side-encryption")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", SSEKMSKeyId="alias/k")
        self.assertEqual(error["ArgumentName"], "x-amz-server-side-encryption-aws-kms-key-id")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", WebsiteRedirectLocation="example.com")
        self.assertEqual(error["ArgumentName"], "x-amz-website-redirect-location")
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_sse_headers_are_kept_and_echoed(self):
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"x", SSEKMSEncryptionContext="eyJhIjoiYiJ9", **KMS)
        for answer in (put, self.s3.head_object(Bucket=self.bucket, Key="k"), self.s3.get_object(Bucket=self.bucket, Key="k")):
            self.assertEqual(answer["ServerSideEncryption"], "aws:kms")
            self.assertEqual(answer["SSEKMSKeyId"], "alias/doppel-test")
            self.assertIs(answer["BucketKeyEnabled"], True)
        self.assertEqual(put["SSEKMSEncryptionContext"], "eyJhIjoiYiJ9")
        aes = self.s3.put_object(Bucket=self.bucket, Key="aes", Body=b"x", ServerSideEncryption="AES256")
        self.assertEqual(aes["ServerSideEncryption"], "AES256")
        self.assertNotIn("SSEKMSKeyId", aes)
        # Nothing asked, nothing claimed: doppel itself encrypts nothing.
        plain = self.s3.put_object(Bucket=self.bucket, Key="plain", Body=b"x")
        self.assertNotIn("ServerSideEncryption", plain)

    def test_unsupported_headers_are_refused(self):
        error = self.assert_client_error("NotImplemented", 501, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey="k" * 32)
        self.assertIn("x-amz-server-side-encryption-customer-", error["Message"])
        error = self.assert_client_error("InvalidRequest", 400, self.s3.put_object, Bucket=self.bucket, Key="k",
                                         Body=b"x", ObjectLockLegalHoldStatus="ON")
        self.assertEqual(error["Message"], "Bucket is missing Object Lock Configuration")
        self.assertEqual(error["ArgumentName"], "x-amz-object-lock-legal-hold")
        self.assert_client_error("InvalidRequest", 400, self.s3.create_multipart_upload, Bucket=self.bucket, Key="k",
                                 ObjectLockMode="GOVERNANCE",
                                 ObjectLockRetainUntilDate=datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
        error = self.assert_client_error("NotImplemented", 501, self.s3.create_bucket,
                                         Bucket=f"lock-{uuid.uuid4().hex[:20]}", ObjectLockEnabledForBucket=True)
        self.assertIn("object lock", error["Message"])
        self.assertEqual(self.s3.list_objects_v2(Bucket=self.bucket)["KeyCount"], 0)

    def test_archived_objects_are_not_read_or_copied_until_restored(self):
        for storage_class in ("GLACIER", "DEEP_ARCHIVE"):
            key = storage_class.lower()
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"cold", StorageClass=storage_class)
            error = self.assert_client_error("InvalidObjectState", 403, self.s3.get_object, Bucket=self.bucket, Key=key)
            self.assertEqual(error["Message"], "The operation is not valid for the object's storage class")
            self.assertEqual(error["StorageClass"], storage_class)
            self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key=key)["StorageClass"], storage_class)
            self.assert_client_error("ObjectNotInActiveTierError", 403, self.s3.copy_object, Bucket=self.bucket,
                                     Key=f"{key}-copy", CopySource={"Bucket": self.bucket, "Key": key})
            upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=f"{key}-parts")
            self.assert_client_error("ObjectNotInActiveTierError", 403, self.s3.upload_part_copy, Bucket=self.bucket,
                                     Key=f"{key}-parts", UploadId=upload["UploadId"], PartNumber=1,
                                     CopySource={"Bucket": self.bucket, "Key": key})
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=f"{key}-parts", UploadId=upload["UploadId"])
        self.s3.put_object(Bucket=self.bucket, Key="instant", Body=b"warm", StorageClass="GLACIER_IR")
        got = self.s3.get_object(Bucket=self.bucket, Key="instant")
        self.assertEqual(got["Body"].read(), b"warm")
        self.assertEqual(got["StorageClass"], "GLACIER_IR")
        self.assertEqual(self.listed_classes(), {"deep_archive": "DEEP_ARCHIVE", "glacier": "GLACIER", "instant": "GLACIER_IR"})

    def test_copy_with_metadata_directive_copy(self):
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"data", Metadata={"origin": "src"}, StorageClass="STANDARD_IA",
                           WebsiteRedirectLocation="/elsewhere", **CONTENT, **KMS)
        # Sent with COPY, content headers of the request do not count; storage class, redirect and
        # encryption are never copied from the source.
        copied = self.s3.copy_object(Bucket=self.bucket, Key="dst", CopySource={"Bucket": self.bucket, "Key": "src"},
                                     ContentEncoding="identity")
        self.assertNotIn("ServerSideEncryption", copied)
        head = self.s3.head_object(Bucket=self.bucket, Key="dst")
        for name, value in CONTENT.items():
            self.assertEqual(head[name], value, name)
        self.assertEqual(head["Metadata"], {"origin": "src"})
        for absent in ("StorageClass", "WebsiteRedirectLocation", "ServerSideEncryption", "SSEKMSKeyId", "BucketKeyEnabled"):
            self.assertNotIn(absent, head)
        self.assertEqual(self.listed_classes(), {"dst": "STANDARD", "src": "STANDARD_IA"})

        # The request's own storage class, redirect and encryption apply to the copy.
        copied = self.s3.copy_object(Bucket=self.bucket, Key="dst", CopySource={"Bucket": self.bucket, "Key": "src"},
                                     StorageClass="ONEZONE_IA", WebsiteRedirectLocation="/new", ServerSideEncryption="AES256")
        self.assertEqual(copied["ServerSideEncryption"], "AES256")
        head = self.s3.head_object(Bucket=self.bucket, Key="dst")
        self.assertEqual(head["StorageClass"], "ONEZONE_IA")
        self.assertEqual(head["WebsiteRedirectLocation"], "/new")
        self.assertEqual(head["ServerSideEncryption"], "AES256")
        self.assertEqual(head["ContentEncoding"], "gzip")

    def test_copy_with_metadata_directive_replace(self):
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"data", Metadata={"origin": "src"}, **CONTENT)
        self.s3.copy_object(Bucket=self.bucket, Key="dst", CopySource={"Bucket": self.bucket, "Key": "src"},
                            MetadataDirective="REPLACE", ContentType="application/json", ContentLanguage="en",
                            Metadata={"origin": "replaced"})
        head = self.s3.head_object(Bucket=self.bucket, Key="dst")
        self.assertEqual(head["ContentType"], "application/json")
        self.assertEqual(head["ContentLanguage"], "en")
        self.assertEqual(head["Metadata"], {"origin": "replaced"})
        for absent in ("CacheControl", "ContentDisposition", "ContentEncoding"):
            self.assertNotIn(absent, head)
        error = self.assert_client_error("InvalidArgument", 400, self.s3.copy_object, Bucket=self.bucket, Key="dst",
                                         CopySource={"Bucket": self.bucket, "Key": "src"}, MetadataDirective="MERGE")
        self.assertEqual(error["ArgumentName"], "x-amz-metadata-directive")

    def test_copy_in_place_needs_a_change(self):
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"data", ContentEncoding="gzip")
        source = {"Bucket": self.bucket, "Key": "k"}
        error = self.assert_client_error("InvalidRequest", 400, self.s3.copy_object, Bucket=self.bucket, Key="k",
                                         CopySource=source)
        self.assertIn("without changing the object's metadata, storage class", error["Message"])
        # Metadata given without REPLACE does not count as a change.
        self.assert_client_error("InvalidRequest", 400, self.s3.copy_object, Bucket=self.bucket, Key="k",
                                 CopySource=source, Metadata={"a": "b"})
        self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=source, StorageClass="STANDARD_IA")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="k")["StorageClass"], "STANDARD_IA")
        # Naming a storage class is a change even when it is the same one (how S3 users "touch" objects).
        self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=source, StorageClass="STANDARD")
        self.assertEqual(self.listed_classes(), {"k": "STANDARD"})
        self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=source, WebsiteRedirectLocation="/same")
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="k")["WebsiteRedirectLocation"], "/same")
        copied = self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=source, ServerSideEncryption="AES256")
        self.assertEqual(copied["ServerSideEncryption"], "AES256")
        self.s3.copy_object(Bucket=self.bucket, Key="k", CopySource=source, MetadataDirective="REPLACE")
        head = self.s3.head_object(Bucket=self.bucket, Key="k")
        self.assertNotIn("ContentEncoding", head)
        self.assertNotIn("ServerSideEncryption", head)

    def tags(self, key: str) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.s3.get_object_tagging(Bucket=self.bucket, Key=key)["TagSet"]}

    def test_tags_on_put_and_the_tagging_operations(self):
        put = self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"data", Tagging="team=data&note=two%20words")
        etag = put["ETag"]
        self.assertEqual(self.tags("k"), {"team": "data", "note": "two words"})
        self.assertEqual(self.s3.head_object(Bucket=self.bucket, Key="k")["TagCount"], 2)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key="k")["TagCount"], 2)
        self.s3.put_object_tagging(Bucket=self.bucket, Key="k", Tagging={"TagSet": [{"Key": "stage", "Value": "raw"}]})
        self.assertEqual(self.tags("k"), {"stage": "raw"})
        got = self.s3.get_object(Bucket=self.bucket, Key="k")
        self.assertEqual((got["Body"].read(), got["ETag"], got["TagCount"]), (b"data", etag, 1))
        self.s3.delete_object_tagging(Bucket=self.bucket, Key="k")
        self.assertEqual(self.tags("k"), {})
        self.assertNotIn("TagCount", self.s3.head_object(Bucket=self.bucket, Key="k"))
        # A new put replaces the tags with its own.
        self.s3.put_object_tagging(Bucket=self.bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"again")
        self.assertEqual(self.tags("k"), {})
        self.assert_client_error("NoSuchKey", 404, self.s3.get_object_tagging, Bucket=self.bucket, Key="missing")
        self.assert_client_error("NoSuchKey", 404, self.s3.put_object_tagging, Bucket=self.bucket, Key="missing",
                                 Tagging={"TagSet": []})

    def test_invalid_tags_are_refused(self):
        self.s3.put_object(Bucket=self.bucket, Key="k", Body=b"data", Tagging="keep=me")
        bad_sets = [
            [{"Key": "aws:owner", "Value": "x"}],
            [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}],
            [{"Key": f"k{i}", "Value": "v"} for i in range(11)],
            [{"Key": "k" * 129, "Value": "v"}],
            [{"Key": "k", "Value": "v" * 257}],
        ]
        for tag_set in bad_sets:
            self.assert_client_error("InvalidTag", 400, self.s3.put_object_tagging, Bucket=self.bucket, Key="k",
                                     Tagging={"TagSet": tag_set})
        self.assertEqual(self.tags("k"), {"keep": "me"})
        error = self.assert_client_error("InvalidTag", 400, self.s3.put_object, Bucket=self.bucket, Key="other",
                                         Body=b"x", Tagging="aws:tag=system")
        self.assertEqual(error["TagKey"], "aws:tag")
        self.assertEqual(self.listed_classes(), {"k": "STANDARD"})
        # Bucket tagging is another operation, not implemented.
        self.assert_client_error("NotImplemented", 501, self.s3.get_bucket_tagging, Bucket=self.bucket)

    def test_copy_tagging_directive(self):
        self.s3.put_object(Bucket=self.bucket, Key="src", Body=b"data", Tagging="tag=old")
        source = {"Bucket": self.bucket, "Key": "src"}
        self.s3.copy_object(Bucket=self.bucket, Key="copied", CopySource=source)
        self.assertEqual(self.tags("copied"), {"tag": "old"})
        # With COPY, the request's own tags do not count.
        self.s3.copy_object(Bucket=self.bucket, Key="copied", CopySource=source, TaggingDirective="COPY", Tagging="tag=ignored")
        self.assertEqual(self.tags("copied"), {"tag": "old"})
        self.s3.copy_object(Bucket=self.bucket, Key="replaced", CopySource=source, TaggingDirective="REPLACE", Tagging="tag=new")
        self.assertEqual(self.tags("replaced"), {"tag": "new"})
        self.s3.copy_object(Bucket=self.bucket, Key="untagged", CopySource=source, TaggingDirective="REPLACE")
        self.assertEqual(self.tags("untagged"), {})
        self.assert_client_error("InvalidTag", 400, self.s3.copy_object, Bucket=self.bucket, Key="bad",
                                 CopySource=source, TaggingDirective="REPLACE", Tagging="aws:tag=invalid_key")
        error = self.assert_client_error("InvalidArgument", 400, self.s3.copy_object, Bucket=self.bucket, Key="bad",
                                         CopySource=source, TaggingDirective="KEEP")
        self.assertEqual(error["ArgumentName"], "x-amz-tagging-directive")
        self.assertEqual(sorted(self.listed_classes()), ["copied", "replaced", "src", "untagged"])

    def test_multipart_upload_keeps_attributes(self):
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key="big", StorageClass="STANDARD_IA",
                                                 Metadata={"meta": "data"}, Tagging="a=b", **CONTENT, **KMS)
        self.assertEqual(upload["ServerSideEncryption"], "aws:kms")
        self.assertEqual(upload["SSEKMSKeyId"], "alias/doppel-test")
        upload_id = upload["UploadId"]
        listed = self.s3.list_multipart_uploads(Bucket=self.bucket)["Uploads"]
        self.assertEqual([(u["Key"], u["StorageClass"]) for u in listed], [("big", "STANDARD_IA")])
        parts = []
        for number, body in ((1, b"a" * (5 * MB)), (2, b"b" * 10)):
            part = self.s3.upload_part(Bucket=self.bucket, Key="big", UploadId=upload_id, PartNumber=number, Body=body)
            self.assertEqual(part["ServerSideEncryption"], "aws:kms")
            self.assertEqual(part["SSEKMSKeyId"], "alias/doppel-test")
            parts.append({"PartNumber": number, "ETag": part["ETag"]})
        self.assertEqual(self.s3.list_parts(Bucket=self.bucket, Key="big", UploadId=upload_id)["StorageClass"], "STANDARD_IA")
        done = self.s3.complete_multipart_upload(Bucket=self.bucket, Key="big", UploadId=upload_id,
                                                 MultipartUpload={"Parts": parts})
        self.assertEqual(done["ServerSideEncryption"], "aws:kms")
        self.assertIs(done["BucketKeyEnabled"], True)
        head = self.s3.head_object(Bucket=self.bucket, Key="big")
        self.assertEqual(head["StorageClass"], "STANDARD_IA")
        self.assertEqual(head["Metadata"], {"meta": "data"})
        for name, value in CONTENT.items():
            self.assertEqual(head[name], value, name)
        self.assertEqual(head["TagCount"], 1)
        self.assertEqual(self.tags("big"), {"a": "b"})
        self.assertEqual(self.listed_classes(), {"big": "STANDARD_IA"})

    def test_multipart_upload_refuses_invalid_storage_class(self):
        self.assert_client_error("InvalidStorageClass", 400, self.s3.create_multipart_upload, Bucket=self.bucket,
                                 Key="k", StorageClass="COLD")
        self.assertEqual(self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []), [])


if __name__ == "__main__":
    unittest.main()
