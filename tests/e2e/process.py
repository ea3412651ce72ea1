"""Real server processes for end-to-end tests: `python cli.py serve` on a loopback port,
as deployed, with the serving limits (`serving.py`)."""

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


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command (in parentheses, which may hold spaces): utime is
        # the 14th field of the line, stime the 15th.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_request(port: int, data: bytes) -> bytes:
    """The server's first answer to `data`, sent at once on a blocking socket. The server
    may close while it is being sent (a reset: it refused a head); its answer is read
    after, as the kernel keeps what arrived before the reset."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with contextlib.suppress(ConnectionError):
            sock.sendall(data)
        with contextlib.suppress(ConnectionError):
            return sock.recv(4096)
    return b""


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
    """One server process on a loopback port: `python cli.py serve`, or, given another
    `target` or uvicorn `options` (the benchmarks), `uvicorn TARGET OPTIONS`, without
    the serving limits. `kill()` ends it with SIGKILL, `start()` starts it again."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    target: str = "app:app"
    #: More uvicorn options, e.g. the event loop and HTTP parser (the benchmarks).
    options: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def command(self) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        if self.target == "app:app" and not self.options:
            return [sys.executable, "cli.py", "serve", *where]
        return [sys.executable, "-m", "uvicorn", self.target, *where, *self.options]

    async def start(self, timeout: float = 20.0) -> None:
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.env)  # noqa: S603
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
