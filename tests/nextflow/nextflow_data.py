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
from pathlib import Path
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


# --- a lineage store -------------------------------------------------------------------
WF = "16b31030474f2e96c55f4940bca3ab64"
QUANT = "eff8846883b46c5a76f11e7e4480a6c8"
MULTIQC = "862df53160e07cd823c0c3960545e747"
STORE_SESSION = "065bdc6b-89b4-42ee-92c1-2a5af37f2c50"
STORE_RUN = "peaceful_blackwell"


def _checksum(value: str) -> dict[str, str]:
    return {"value": value, "algorithm": "nextflow", "mode": "standard"}


def lineage_store(launch: Path, *, layout: str = "v1beta1") -> Path:
    """A launch folder with a pipeline, its work files, results and `.lineage` store.

    Records follow Nextflow's lineage model field for field (the data lineage docs and
    the model classes), each with an undocumented ``futureField``. ``layout``:
    ``v1beta1`` (``{version, kind, spec}`` under ``.meta/``) or ``old`` (the record at
    the root with its ``type``, keys at the top of the store, ``TaskOutputs``).
    """
    work_quant = launch / "work" / QUANT[:2] / QUANT[2:]
    work_multiqc = launch / "work" / MULTIQC[:2] / MULTIQC[2:]
    for folder in (launch / "data", work_quant, work_multiqc, launch / "results"):
        folder.mkdir(parents=True, exist_ok=True)
    (launch / "main.nf").write_text("workflow { QUANT(reads) | MULTIQC }\n")
    (launch / "data" / "ggal_gut_1.fq").write_text("@read1\nACGT\n+\nIIII\n")
    (work_quant / "quant.sf").write_text("Name\tLength\nENSGALT1\t1200\n")
    (work_multiqc / "multiqc_report.html").write_text("<html>report</html>\n")
    (launch / "results" / "multiqc_report.html").write_text("<html>report</html>\n")
    created = "2025-05-09T13:27:34.236590379-05:00"
    records: dict[str, tuple[str, dict[str, Any]]] = {
        WF: ("WorkflowRun", {
            "workflow": {"scriptFiles": [{"path": f"file://{launch}/main.nf",
                                          "checksum": _checksum("2902f5aa7f297f2d")}],
                         "repository": "https://github.com/nextflow-io/rnaseq-nf",
                         "commitId": "86165b8c81d43a1f57363964431395152e353e56"},
            "sessionId": STORE_SESSION, "name": STORE_RUN,
            "params": [{"type": "String", "name": "reads", "value": "data/ggal_gut_{1,2}.fq"},
                       {"type": "String", "name": "outdir", "value": "results"},
                       {"type": "String", "name": "api_key", "value": "key-very-secret-456"}],
            "config": {"process": {"executor": "local"}, "lineage": {"enabled": True},
                       "aws": {"accessKey": "AKIAEXAMPLE", "secretKey": "aws-very-secret-789"}},
            "metadata": {"nextflow": {"version": "25.04.0"}},
            "futureField": 1}),
        QUANT: ("TaskRun", {
            "sessionId": STORE_SESSION, "name": "QUANT (ggal_gut)",
            "codeChecksum": _checksum("edf2e9f84cd3a18e"),
            "script": "\n    salmon quant -i index -r ggal_gut_1.fq -o quant.sf\n    ",
            "input": [{"type": "val", "name": "sample", "value": "ggal_gut"},
                      {"type": "path", "name": "reads",
                       "value": [{"path": f"file://{launch}/data/ggal_gut_1.fq",
                                  "checksum": _checksum("2aac500cdfb292e9")}]}],
            "container": None, "conda": "file:///conda/env-4a436c23", "spack": None,
            "architecture": None, "globalVars": {}, "binEntries": [],
            "workflowRun": f"lid://{WF}", "futureField": "x"}),
        f"{QUANT}/quant.sf": ("FileOutput", {
            "path": f"{work_quant}/quant.sf", "checksum": _checksum("03fd5ed150c7862e"),
            "source": f"lid://{QUANT}", "workflowRun": f"lid://{WF}",
            "taskRun": f"lid://{QUANT}", "size": 27, "createdAt": created,
            "modifiedAt": created, "labels": None}),
        MULTIQC: ("TaskRun", {
            "sessionId": STORE_SESSION, "name": "MULTIQC",
            "codeChecksum": _checksum("9615a8da3a3f9e93"),
            "script": "\n    multiqc -n multiqc_report.html .\n    ",
            "input": [{"type": "path", "name": "*", "value": [f"lid://{QUANT}/quant.sf"]}],
            "container": "quay.io/multiqc:1.27", "conda": None, "spack": None,
            "architecture": None, "globalVars": {}, "binEntries": [],
            "workflowRun": f"lid://{WF}"}),
        f"{MULTIQC}/multiqc_report.html": ("FileOutput", {
            "path": f"file://{work_multiqc}/multiqc_report.html",
            "checksum": _checksum("b14f5171a48ce5c2"), "source": f"lid://{MULTIQC}",
            "workflowRun": f"lid://{WF}", "taskRun": f"lid://{MULTIQC}", "size": 20,
            "createdAt": created, "modifiedAt": created, "labels": None}),
        f"{MULTIQC}#output": ("TaskOutput", {
            "taskRun": f"lid://{MULTIQC}", "workflowRun": f"lid://{WF}", "createdAt": created,
            "output": [{"type": "path", "name": "report",
                        "value": f"lid://{MULTIQC}/multiqc_report.html"}], "labels": None}),
        f"{WF}/multiqc_report.html": ("FileOutput", {
            "path": "/results/multiqc_report.html",  # shortened under the launch folder
            "checksum": _checksum("03fd5ed150c7862e"),
            "source": f"lid://{MULTIQC}/multiqc_report.html", "workflowRun": f"lid://{WF}",
            "taskRun": None, "size": 20, "createdAt": created, "modifiedAt": created,
            "labels": ["report"]}),
        f"{WF}#output": ("WorkflowOutput", {
            "createdAt": created, "workflowRun": f"lid://{WF}",
            "output": [{"type": "Path", "name": "summary",
                        "value": f"lid://{WF}/multiqc_report.html"}]}),
    }
    store = launch / ".lineage"
    base = store / ".meta" if layout == "v1beta1" else store
    for key, (kind, spec) in records.items():
        folder = base / key
        folder.mkdir(parents=True, exist_ok=True)
        if layout == "v1beta1":
            data = {"version": "lineage/v1beta1", "kind": kind, "spec": spec}
        else:
            if kind == "TaskOutput":
                kind, spec = "TaskOutputs", {**spec, "outputs": spec.pop("output")}
            data = {"type": kind, **spec}
        (folder / ".data.json").write_text(json.dumps(data, indent=2))
    (base / ".history").write_text(f"2025-05-09 13:27:00\t{STORE_RUN}\t{STORE_SESSION}\t"
                                   f"lid://{WF}\n")
    return store
