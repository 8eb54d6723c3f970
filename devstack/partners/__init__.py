"""The fake payment partners of the local stack and the tests (never deployed): docs/PARTNERS.md."""

from devstack.partners.faults import Faults, FaultsInvalid
from devstack.partners.server import LOCAL_SECRETS, FakePartners, UnknownPartnerId
from devstack.partners.settlement import MemorySink, S3Sink

__all__ = [
    "LOCAL_SECRETS",
    "FakePartners",
    "Faults",
    "FaultsInvalid",
    "MemorySink",
    "S3Sink",
    "UnknownPartnerId",
]
