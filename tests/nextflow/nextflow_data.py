"""Nextflow's records as Nextflow writes them, for the tests.

The weblog payloads follow the nf-weblog plugin's README field for field
(``runName``, ``runId``, ``event``, ``utcTime``, ``trace`` | ``metadata``;
its ``started`` and ``process_completed`` examples), each with a field
Nextflow does not document (``futureField``) to prove unknown fields pass.
"""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
from typing import Any

RUN_NAME = "friendly_pesquet"
SESSION = "170aa09c-105f-49d0-99b4-8eb6a146e4a7"
T0 = 1538912529498  # epoch ms


def metadata(event: str, *, success: bool | None = None, error: str | None = None,
             params_key: str = "parameters") -> dict[str, Any]:
    """``metadata`` of a ``started`` / ``completed`` event (the README's example, abridged)."""
    done = event == "completed"
    return {
        params_key: {
            "reads": "data/test*{1,2}.fq.gz", "outdir": "results", "seqtype": "dna",
            "enumerations": 1, "beta": 0.009, "single_end": False,
            "api_token": "tok-very-secret-123", "db_password": "hunter2",
        },
        "workflow": {
            "start": "2018-10-07T11:42:08Z",
            "projectDir": "/home/nf/.nextflow/assets/nf-core/hlatyping",
            "manifest": {"nextflowVersion": ">=18.10.1", "defaultBranch": "master",
                         "version": "1.1.4", "homePage": "https://github.com/nf-core/hlatyping",
                         "gitmodules": None, "name": "nf-core/hlatyping",
                         "mainScript": "main.nf", "author": None,
                         "description": "Precision HLA typing."},
            "complete": "2018-10-07T11:50:00Z" if done else None,
            "profile": "docker,test", "homeDir": "/home/nf",
            "workDir": "/home/nf/run/work", "container": "nfcore/hlatyping:1.1.4",
            "commitId": "4bcced898ee23600bd8c249ff085f8f88db90e7c",
            "errorMessage": error, "repository": "https://github.com/nf-core/hlatyping.git",
            "containerEngine": "docker",
            "scriptFile": "/home/nf/.nextflow/assets/nf-core/hlatyping/main.nf",
            "userName": "nf", "launchDir": "/home/nf/run", "runName": RUN_NAME,
            "configFiles": ["/home/nf/.nextflow/assets/nf-core/hlatyping/nextflow.config"],
            "sessionId": SESSION, "errorReport": error, "scriptId": "2902f5aa7f297f2dccd6baebac7730a2",
            "revision": "master", "exitStatus": (0 if success else 1) if done else None,
            "commandLine": "nextflow run nf-core/hlatyping -profile docker,test "
                           "--api_token tok-very-secret-123 -with-weblog http://127.0.0.1:8765",
            "nextflow": {"version": "19.03.0-edge", "build": 5137,
                         "timestamp": "2019-03-28T14:46:55Z"},
            "stats": {"succeedCount": 2 if done else 0, "failedCount": 0, "cachedCount": 0},
            "resume": False, "success": bool(success) if done else False,
            "scriptName": "main.nf", "duration": 472000 if done else None,
            "futureField": {"anything": 1},
        },
    }


def trace(task_id: int, *, name: str, status: str, exit: int | None = 0, attempt: int = 1,
          hash: str = "a1/0024fd", started: bool = True, completed: bool = True,
          **extra: Any) -> dict[str, Any]:
    """A weblog ``trace`` (raw numbers), as in the README's ``process_completed`` example."""
    process = name.split(" (")[0]
    record = {
        "task_id": task_id, "status": status, "hash": hash, "name": name,
        "exit": exit if completed else 2147483647, "submit": T0 + task_id * 1000,
        "start": T0 + task_id * 1000 + 131 if started else 0, "process": process,
        "tag": None, "module": [], "container": "nfcore/hlatyping:1.1.1", "attempt": attempt,
        "script": "\n    configbuilder --max-cpus 2 --solver glpk > config.ini\n    ",
        "scratch": None,
        "workdir": f"/home/nf/run/work/{hash}028375e2b601aaed44d112e3",
        "queue": None, "cpus": 1, "memory": 7516192768, "disk": None, "time": 7200000,
        "env": "PATH=/home/nf/run/bin:$PATH\nAWS_SECRET_ACCESS_KEY=abc123secret\n",
        "error_action": None,
        "complete": T0 + task_id * 1000 + 201101 if completed else 0,
        "duration": 201101 if completed else 0, "realtime": 69 if completed else 0,
        "%cpu": 0.0, "%mem": 0.1, "vmem": 54259712, "rss": 10469376, "peak_vmem": 20185088,
        "peak_rss": 574972928, "rchar": 7597, "wchar": 162, "syscr": 16, "syscw": 4083712,
        "read_bytes": 4096, "write_bytes": 0, "native_id": 27185 + task_id,
        "futureField": "kept",
    }
    record.update(extra)
    return record


def event(name: str, *, when: str = "2018-10-07T11:45:30Z", run_name: str = RUN_NAME,
          session: str = SESSION, **body: Any) -> dict[str, Any]:
    """A weblog payload."""
    return {"runName": run_name, "runId": session, "event": name, "utcTime": when, **body}


def task_events(task_id: int, name: str, *, status: str = "COMPLETED", exit: int = 0,
                attempt: int = 1, hash: str | None = None) -> list[dict[str, Any]]:
    """``process_submitted``, ``process_started``, ``process_completed`` of one task."""
    hash = hash or f"{task_id:02x}/{task_id:06x}"
    return [
        event("process_submitted", trace=trace(task_id, name=name, status="SUBMITTED",
                                               attempt=attempt, hash=hash, started=False,
                                               completed=False)),
        event("process_started", trace=trace(task_id, name=name, status="RUNNING",
                                             attempt=attempt, hash=hash, completed=False)),
        event("process_completed", trace=trace(task_id, name=name, status=status, exit=exit,
                                               attempt=attempt, hash=hash)),
    ]


def a_run(*, success: bool = True) -> list[dict[str, Any]]:
    """A whole run in Nextflow's order: two tasks, the second fails and its retry succeeds."""
    return [
        event("started", when="2018-10-07T11:42:08Z", metadata=metadata("started")),
        *task_events(1, "make_ot_config"),
        *task_events(2, "run_optitype (sample1)", status="FAILED", exit=137),
        *task_events(3, "run_optitype (sample1)", attempt=2),
        event("completed", when="2018-10-07T11:50:00Z",
              metadata=metadata("completed", success=success)),
    ]


def copies(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return copy.deepcopy(payloads)


def post(url: str, body: Any, *, raw: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST JSON (or `raw` bytes) to the receiver: (status, decoded answer)."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
