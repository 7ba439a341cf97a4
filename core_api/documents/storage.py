"""Document objects in S3 through boto3: presigned upload/download URLs, verification, bucket set-up.

Keys are `firms/<firm_id>/documents/<document_id>/<version_id>`, built here from the tenant's firm id and
ids read from the database, never from request input, so a key never crosses tenants.

The presigned PUT signs `Content-Length`, `Content-Type`, `x-amz-checksum-sha256` and `If-None-Match: *`:
real S3 then refuses a body of another size or checksum and any second write to the key, so a completed
version's object cannot be replaced through its upload URL. Completion still verifies the stored object
itself (HEAD for size and type, then a streamed SHA-256 of exactly that object via If-Match on its ETag),
because not every S3 implementation enforces signed checksums (moto does not).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core_api.settings import Settings, get_settings

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


class StorageUnavailable(RuntimeError):
    """S3 could not be reached or answered with an unexpected error."""


class ObjectChanged(RuntimeError):
    """The object changed between the HEAD and the read that verifies it."""


@dataclass(frozen=True)
class PresignedRequest:
    method: str
    url: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None
    etag: str


def object_key(firm_id: uuid.UUID, document_id: uuid.UUID, version_id: uuid.UUID) -> str:
    return f"firms/{firm_id}/documents/{document_id}/{version_id}"


def hex_to_base64(checksum_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(checksum_hex)).decode()


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 6266 / 5987 UTF-8 name."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@lru_cache(maxsize=8)
def _client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str) -> Any:
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    credentials = (
        {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        if access_key_id
        else {}
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url or None, region_name=region, config=config, **credentials
    )


class DocumentStorage:
    def __init__(self, client: Any, bucket: str, expiry_seconds: int) -> None:
        self.client, self.bucket, self.expiry = client, bucket, expiry_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentStorage:
        client = _client(
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_access_key_id.get_secret_value(),
            settings.s3_secret_access_key.get_secret_value(),
        )
        return cls(client, settings.s3_bucket, settings.s3_presign_expiry_seconds)

    def _expires_at(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.expiry)

    def presign_upload(
        self, key: str, *, size: int, checksum_sha256: str, content_type: str
    ) -> PresignedRequest:
        checksum = hex_to_base64(checksum_sha256)
        url = self._presign(
            "put_object",
            {
                "Bucket": self.bucket,
                "Key": key,
                "ContentLength": size,
                "ContentType": content_type,
                "ChecksumSHA256": checksum,
                "IfNoneMatch": "*",
            },
        )
        # Content-Length is signed too; HTTP clients set it from the body, which must be exactly `size` bytes.
        headers = {"Content-Type": content_type, "x-amz-checksum-sha256": checksum, "If-None-Match": "*"}
        return PresignedRequest("PUT", url, headers, self._expires_at())

    def presign_download(self, key: str, *, file_name: str, content_type: str) -> PresignedRequest:
        url = self._presign(
            "get_object",
            {
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(file_name),
                "ResponseContentType": content_type,
            },
        )
        return PresignedRequest("GET", url, {}, self._expires_at())

    def _presign(self, operation: str, params: dict[str, Any]) -> str:
        try:
            return self.client.generate_presigned_url(operation, Params=params, ExpiresIn=self.expiry)
        except (BotoCoreError, ClientError) as exc:  # e.g. no credentials found in the default chain
            raise StorageUnavailable(f"cannot sign {operation}: {type(exc).__name__}") from exc

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageUnavailable(f"HEAD failed: {exc.response.get('Error', {}).get('Code')}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"HEAD failed: {type(exc).__name__}") from exc
        return ObjectInfo(
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType"),
            etag=response["ETag"],
        )

    def sha256(self, key: str, etag: str) -> tuple[str, int]:
        """SHA-256 (hex) and length of exactly the object version with this ETag, streamed."""
        digest, length = hashlib.sha256(), 0
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)["Body"]
            try:
                for chunk in body.iter_chunks(_CHUNK):
                    digest.update(chunk)
                    length += len(chunk)
            finally:
                body.close()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "NoSuchKey", "404"):
                raise ObjectChanged(key) from exc
            raise StorageUnavailable(f"GET failed: {code}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"GET failed: {type(exc).__name__}") from exc
        return digest.hexdigest(), length

    def delete(self, key: str) -> None:
        """Best effort: a rejected upload's object is removed; failure only leaves an unreferenced object."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError):
            log.warning("could not delete rejected upload object %s", key, exc_info=True)

    def ensure_bucket(self, region: str) -> bool:
        """Create the bucket if missing (dev start-up only). True when it was created."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise
        params: dict[str, Any] = {"Bucket": self.bucket}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.client.create_bucket(**params)
        return True


def get_storage() -> DocumentStorage:
    """The request's storage (a FastAPI dependency; override it to inject another S3)."""
    return DocumentStorage.from_settings(get_settings())
