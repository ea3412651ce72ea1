"""The environment every test process starts from; imported before `config`."""

from __future__ import annotations

import os
import tempfile

SCRATCH = tempfile.mkdtemp(prefix="switchboard-test-")

TEST_ENV = {
    "JWT_SECRET": "test-jwt-secret-of-at-least-thirty-two-bytes",
    "JWT_ALGORITHMS": "HS256",
    "SECRET_KEY": "test-secret-key-of-at-least-thirty-two-bytes",
    "MEDIA_ROOT": os.path.join(SCRATCH, "media"),
    "DATABASE_URL": f"sqlite://{SCRATCH}/unused.sqlite3",
    "PUBLIC_URL": "http://testserver",
    "GRAPHIQL": "true",
}


def apply() -> None:
    for name, value in TEST_ENV.items():
        os.environ[name] = value
    for name in ("JWT_PUBLIC_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "REDIS_URL", "CORS_ORIGINS"):
        os.environ.pop(name, None)
