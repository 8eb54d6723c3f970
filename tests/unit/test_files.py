"""S3 answers a batch delete with 200 even when it kept objects: the errors it lists must not be lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.stub import Stubber

from chalicelib.core import files


@pytest.fixture
def s3() -> Iterator[Stubber]:
    files._client.cache_clear()
    with Stubber(files._client()) as stubber:
        yield stubber
    files._client.cache_clear()


def test_objects_s3_refuses_to_delete_fail_the_delete(s3: Stubber) -> None:
    s3.add_response(
        "delete_objects", {"Errors": [{"Key": "parts/1", "Code": "AccessDenied", "Message": "no"}]}
    )

    with pytest.raises(files.DeleteFailed, match="parts/1: AccessDenied"):
        files.delete(["parts/1", "parts/2"])


def test_a_delete_s3_answers_in_full_passes(s3: Stubber) -> None:
    s3.add_response("delete_objects", {"Deleted": [{"Key": "parts/1"}]})

    files.delete(["parts/1"])
