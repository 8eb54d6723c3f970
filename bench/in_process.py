"""In-process AWS (moto) for the benchmarks that run the real code without a server.

Importing this module first gives the process the environment a local-stage Lambda sees, before
anything from `chalicelib` reads its settings, and points every AWS call at moto's in-process
backend rather than at any endpoint.
"""

from __future__ import annotations

import os

os.environ.update(
    {
        "STAGE": "local",
        "HASH_KEY": "bench",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
        "UPLOAD_BUCKET": "prakerja-local-uploads-123456789012",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
