"""Real server processes for end-to-end tests: `uvicorn app:app` on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

import config
from tests.support.settings import TEST_ENV

ROOT = Path(config.ROOT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server process: the test settings plus `settings`."""
    env = {**os.environ, **TEST_ENV, "DATABASE_URL": database_url, **settings}
    env.pop("TEST_DATABASE_URL", None)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "cli.py", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True
    )


@dataclass
class ServerProcess:
    """One uvicorn process serving `target` (`app:app` unless told otherwise) on a
    loopback port; `kill()` ends it with SIGKILL, `start()` starts it again."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    target: str = "app:app"
    #: More uvicorn options, e.g. the event loop and HTTP parser (the benchmarks).
    options: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 20.0) -> None:
        command = [sys.executable, "-m", "uvicorn", self.target, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "warning", *self.options]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)  # noqa: S603
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"server exited with {self.process.returncode}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise TimeoutError("server did not become ready")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.asynccontextmanager
async def server_process(env: dict[str, str]) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(env=env)
    await server.start()
    try:
        yield server
    finally:
        server.stop()
