"""An S3-compatible object store as the second copy of every backup set (R-ARC-2:
external media), through boto3.

Each set is uploaded once it is verified, files first and the signed manifest last, so a
set without its manifest in the bucket is one whose upload was cut short, and nothing
reads it. When a set is not on the local disk (the disk was lost), a restore fetches it
from the bucket into the store first, streaming, and checks it there like any other.
Configured by ARCHIVE_S3_BUCKET (none: no mirror), ARCHIVE_S3_ENDPOINT_URL (a
non-AWS server), ARCHIVE_S3_PREFIX (`school-backups`) and the usual AWS_* credentials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from archive.manifest import MANIFEST


@dataclass(frozen=True)
class S3Mirror:
    bucket: str
    client: Any
    prefix: str = "school-backups"

    @classmethod
    def from_env(cls) -> S3Mirror | None:
        bucket = os.environ.get("ARCHIVE_S3_BUCKET")
        if not bucket:
            return None
        endpoint = os.environ.get("ARCHIVE_S3_ENDPOINT_URL") or None
        client = boto3.client("s3", endpoint_url=endpoint)
        return cls(bucket, client, os.environ.get("ARCHIVE_S3_PREFIX") or "school-backups")

    def _key(self, service: str, set_id: str, name: str = "") -> str:
        return f"{self.prefix}/{service}/{set_id}/{name}"

    def upload(self, service: str, directory: Path) -> None:
        """Files first, the manifest last: only a whole set is ever visible as one."""
        names = sorted(p.name for p in directory.iterdir() if p.name != MANIFEST)
        for name in [*names, MANIFEST]:
            key = self._key(service, directory.name, name)
            self.client.upload_file(str(directory / name), self.bucket, key)

    def set_ids(self, service: str) -> list[str]:
        """The service's sets whose manifest arrived, oldest first."""
        found: set[str] = set()
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/{service}/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                set_id, _, name = (
                    item["Key"].removeprefix(f"{self.prefix}/{service}/").partition("/")
                )
                if name == MANIFEST:
                    found.add(set_id)
        return sorted(found)

    def download(self, service: str, set_id: str, target: Path) -> None:
        """Every object of the set into `target`, streamed to disk by boto3."""
        prefix = self._key(service, set_id)
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        for item in listed.get("Contents", []):
            name = item["Key"].removeprefix(prefix)
            self.client.download_file(self.bucket, item["Key"], str(target / name))

    def remove(self, service: str, set_id: str) -> None:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._key(service, set_id))
        objects = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
        if objects:
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
