"""Load from a separate process: HTTP/1.1 keep-alive connections, closed loop.

`LoadGenerator` (used by bench modules) starts `python -m bench.loadgen` once and
sends it one job a line on stdin; the child answers one JSON line a job. When
`wrk` is installed (and `BENCH_LOADGEN` is not `python`) each job runs under wrk
instead. Either way the load never shares a process with the bench driver or
the servers.

The Python generator is deliberately small: raw asyncio streams, requests built
once as bytes, responses read by `Content-Length`, so it spends little of the
machine's CPU on itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.figures import percentile

#: Concurrent connections per job, as in the issue's wrk runs.
CONNECTIONS = 32


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class Load:
    """What one window of load measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    tool: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


# The child process.


def _raw(request: Request, host: str, port: int) -> bytes:
    body = request.body.encode()
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    if body or request.method == "POST":
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """Sends one request and reads its whole response; returns the status."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError("response without Content-Length: the load generator reads only those")
    await reader.readexactly(length)
    return status


async def _window(job: dict[str, Any]) -> dict[str, Any]:
    request = Request(**job["request"])
    targets = [(str(t[0]), int(t[1])) for t in job["targets"]]
    connections, seconds, warmup = job["connections"], job["seconds"], job.get("warmup", 0.0)
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter() + warmup
    ends = started + seconds

    async def worker(index: int) -> None:
        nonlocal errors
        host, port = targets[index % len(targets)]
        raw = _raw(request, host, port)
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                begun = time.perf_counter()
                if begun >= ends:
                    return
                status = await _exchange(reader, writer, raw)
                done = time.perf_counter()
                if begun >= started and done <= ends:
                    if status == 200:
                        latencies.append(done - begun)
                    else:
                        errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    await asyncio.gather(*(worker(i) for i in range(connections)))
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "tool": "python",
    }


async def _serve_jobs() -> None:
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        result = await _window(json.loads(line))
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


def main() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        asyncio.run(_serve_jobs())
    else:
        uvloop.run(_serve_jobs())


# The driver's side.

_WRK_SCRIPT = """
wrk.method = {method}
wrk.body = {body}
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{{"requests": %d, "errors": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f}}\\n',
    summary.requests - e.status, e.connect + e.read + e.write + e.timeout + e.status,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
"""


def _lua(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


class LoadGenerator:
    """Runs windows of load from another process: `await load.run(...)`."""

    def __init__(self) -> None:
        self.wrk = shutil.which("wrk") if os.environ.get("BENCH_LOADGEN") != "python" else None
        self.child: subprocess.Popen[str] | None = None

    @property
    def tool(self) -> str:
        return "wrk" if self.wrk else "python -m bench.loadgen"

    @classmethod
    @contextlib.asynccontextmanager
    async def started(cls) -> AsyncIterator[LoadGenerator]:
        generator = cls()
        if not generator.wrk:
            generator.child = subprocess.Popen(  # noqa: S603 - our own module
                [sys.executable, "-m", "bench.loadgen"],
                cwd=Path(__file__).resolve().parent.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        try:
            yield generator
        finally:
            if generator.child:
                assert generator.child.stdin
                generator.child.stdin.close()
                generator.child.wait(timeout=30)

    async def run(
        self,
        targets: Sequence[str],
        request: Request,
        *,
        seconds: float,
        warmup: float = 0.5,
        connections: int = CONNECTIONS,
    ) -> Load:
        """`seconds` of load spread over `targets` (base URLs), after `warmup` seconds."""
        if self.wrk:
            return await self._run_wrk(targets, request, seconds, warmup, connections)
        hosts = [_host_port(t) for t in targets]
        job = {
            "targets": hosts,
            "request": request.__dict__,
            "connections": connections,
            "seconds": seconds,
            "warmup": warmup,
        }
        child = self.child
        assert child and child.stdin and child.stdout
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        line = await asyncio.to_thread(child.stdout.readline)
        if not line:
            raise RuntimeError("the load generator exited")
        return Load(**json.loads(line))

    async def _run_wrk(
        self,
        targets: Sequence[str],
        request: Request,
        seconds: float,
        warmup: float,
        connections: int,
    ) -> Load:
        headers = "\n".join(
            f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in request.headers.items()
        )
        script = _WRK_SCRIPT.format(
            method=_lua(request.method), body=_lua(request.body), headers=headers
        )
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        try:
            if warmup:
                await self._wrk_all(handle.name, targets, request, warmup, connections)
            parts = await self._wrk_all(handle.name, targets, request, seconds, connections)
        finally:
            os.unlink(handle.name)
        total = sum(p["requests"] for p in parts)
        return Load(
            requests=total,
            errors=sum(p["errors"] for p in parts),
            seconds=max(p["seconds"] for p in parts),
            # Per-target percentiles cannot be merged exactly: weight them by requests.
            p50_ms=sum(p["p50_ms"] * p["requests"] for p in parts) / max(total, 1),
            p99_ms=max(p["p99_ms"] for p in parts),
            tool="wrk",
        )

    async def _wrk_all(
        self, script: str, targets: Sequence[str], request: Request, seconds: float, conns: int
    ) -> list[dict[str, Any]]:
        async def one(target: str) -> dict[str, Any]:
            assert self.wrk
            process = await asyncio.create_subprocess_exec(
                self.wrk,
                "-t1",
                f"-c{max(1, conns // len(targets))}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                script,
                target + request.path,
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await process.communicate()
            last = out.decode().strip().splitlines()[-1]
            result: dict[str, Any] = json.loads(last)
            return result

        return list(await asyncio.gather(*(one(t) for t in targets)))


def _host_port(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").partition(":")
    return host, int(port.rstrip("/"))


if __name__ == "__main__":
    main()
