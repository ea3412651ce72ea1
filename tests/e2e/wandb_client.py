"""The real `wandb` SDK against a live server, in a process of its own.

wandb 0.31 sends every GraphQL request through its Go sidecar, wandb-core, which it spawns
on first use and which keeps global state and threads; none of that may enter pytest's
process. So the SDK runs in a worker: this file, run as a script, reads one JSON call a
line ({"call": NAME, "args": {...}}) and answers one JSON line ({"result": ...} or
{"error": {"type": ..., "message": ...}}). `SdkWorker` is the pytest side.

The worker starts from an empty environment (a developer's WANDB_* settings never leak in),
with HOME, NETRC and every wandb directory in a temporary directory (`wandb login` writes
the key to ~/.netrc), WANDB_ERROR_REPORTING=false (the SDK then starts wandb-core with
--no-observability: no Sentry, no OpenTelemetry export) and a proxy on a closed loopback port
for every host but loopback: a request meant for the internet fails instead of leaving.

Three documents are sent by wandb-core's Go code, not by Python: `core_document` reads them
from the installed binary, so a test sends exactly what this SDK version sends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

#: A closed port (discard): anything sent through the proxy fails at once.
_DEAD_PROXY = "http://127.0.0.1:9"


class SdkCallFailed(Exception):
    """The SDK raised `type` with `message` (or the worker died or timed out)."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(f"{type}: {message}")
        self.type = type
        self.message = message


def installed() -> bool:
    return importlib.util.find_spec("wandb") is not None


def core_binary() -> Path:
    spec = importlib.util.find_spec("wandb")
    assert spec is not None and spec.submodule_search_locations, "wandb is not installed"
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "wandb-core"


def core_document(operation: str) -> str:
    """The GraphQL document named `operation` in the wandb-core binary (a Go string constant,
    found by its first line and ended where its braces balance)."""
    data = core_binary().read_bytes()
    found = re.search(rb"(query|mutation) " + re.escape(operation.encode()) + rb" ?[({]", data)
    assert found, f"wandb-core sends no operation named {operation}"
    depth = 0
    for end in range(data.index(b"{", found.start()), len(data)):
        depth += {ord("{"): 1, ord("}"): -1}.get(data[end], 0)
        if depth == 0:
            return data[found.start() : end + 1].decode()
    raise AssertionError(f"unbalanced document {operation}")


def hermetic_env(base_url: str, api_key: str, home: Path) -> dict[str, str]:
    """The worker's whole environment: nothing of ours, nothing outside `home`."""
    dirs = {
        name: str(home / sub)
        for name, sub in {
            "WANDB_DIR": "wandb",
            "WANDB_CONFIG_DIR": "config",
            "WANDB_CACHE_DIR": "cache",
            "WANDB_DATA_DIR": "data",
            "WANDB_ARTIFACT_DIR": "artifacts",
            "TMPDIR": "tmp",
        }.items()
    }
    for path in dirs.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "NETRC": str(home / ".netrc"),
        **dirs,
        "WANDB_BASE_URL": base_url,
        # Not WANDB_MODE=offline: wandb.login() then returns False without verifying.
        "WANDB_API_KEY": api_key,
        "WANDB_SILENT": "true",
        "WANDB_ERROR_REPORTING": "false",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_HTTP_TIMEOUT": "10",
        # wandb-core (Go) and requests (Python) both honour these; loopback goes direct.
        "HTTP_PROXY": _DEAD_PROXY,
        "HTTPS_PROXY": _DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
    }


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """`wandb ARGS` (the SDK's own command line) in a process of its own."""
    return subprocess.run(  # noqa: S603 - the installed SDK, fixed arguments
        [sys.executable, "-m", "wandb", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


class SdkWorker:
    """This file run as a script, called one SDK call at a time."""

    def __init__(self, env: dict[str, str], timeout: float = 30) -> None:
        self.timeout = timeout
        self.process = subprocess.Popen(  # noqa: S603 - this file, no shell
            [sys.executable, __file__],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, name: str, /, **args: Any) -> Any:
        process = self.process
        assert process.stdin and process.stdout
        process.stdin.write(json.dumps({"call": name, "args": args}) + "\n")
        process.stdin.flush()
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(self.timeout):
                self.close()
                raise SdkCallFailed("Timeout", f"{name} gave no answer in {self.timeout} s")
        line = process.stdout.readline()
        if not line:
            raise SdkCallFailed("WorkerDied", f"exit code {process.poll()}")
        answer = json.loads(line)
        if "error" in answer:
            raise SdkCallFailed(answer["error"]["type"], answer["error"]["message"])
        return answer["result"]

    def close(self) -> None:
        """End of input ends the worker (and its wandb-core); killed if it does not."""
        assert self.process.stdin and self.process.stdout
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


# The worker's side: the SDK calls, each answering plain JSON. Only this half imports wandb.


def _api(key: str) -> Any:
    import wandb

    return wandb.Api(overrides={"base_url": os.environ["WANDB_BASE_URL"]}, api_key=key)


def _user(user: Any) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "entity": user.entity,
        "admin": user.admin,
        "teams": user.teams,
        "api_keys": user.api_keys,
    }


def _team(team: Any) -> dict[str, Any]:
    return {
        "name": team.name,
        "isTeam": team.isTeam,
        "members": [
            {"username": m.username, "admin": m.admin, "pending": m.pending} for m in team.members
        ],
    }


def login(key: str) -> bool:
    import wandb

    logged_in: bool = wandb.login(key=key, host=os.environ["WANDB_BASE_URL"], verify=True)
    return logged_in


def viewer(key: str) -> dict[str, Any]:
    return _user(_api(key).viewer)


def default_entity(key: str) -> str | None:
    entity: str | None = _api(key).default_entity
    return entity


def create_team(key: str, team: str, admin_username: str | None) -> dict[str, Any]:
    return _team(_api(key).create_team(team, admin_username))


def team(key: str, name: str) -> dict[str, Any]:
    return _team(_api(key).team(name))


def invite(key: str, team: str, username_or_email: str, admin: bool) -> bool:
    invited: bool = _api(key).team(team).invite(username_or_email, admin=admin)
    return invited


def create_service_account(key: str, team: str, description: str) -> dict[str, Any] | None:
    member = _api(key).team(team).create_service_account(description)
    if member is None:
        return None
    return {"username": member.username, "accountType": member.accountType}


def user(key: str, username_or_email: str) -> dict[str, Any] | None:
    found = _api(key).user(username_or_email)
    return None if found is None else _user(found)


def generate_api_key(key: str, description: str) -> str | None:
    generated: str | None = _api(key).viewer.generate_api_key(description)
    return generated


def delete_api_key(key: str, name: str) -> bool:
    deleted: bool = _api(key).viewer.delete_api_key(name)
    return deleted


CALLS = {
    call.__name__: call
    for call in (
        login,
        viewer,
        default_entity,
        create_team,
        team,
        invite,
        create_service_account,
        user,
        generate_api_key,
        delete_api_key,
    )
}


def serve() -> None:
    """Answer calls from stdin until it closes. The answers go to the original stdout; fd 1
    is pointed at stderr first, so nothing the SDK or wandb-core prints can be taken for one."""
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"result": CALLS[request["call"]](**request["args"])}
        # The one place any SDK failure is expected: it becomes the caller's SdkCallFailed.
        except Exception as error:  # noqa: BLE001
            answer = {"error": {"type": type(error).__name__, "message": str(error)}}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    serve()
