"""The instance the UI tests look at, written through the run lifecycle like any caller.

Two versions of ``train.py``; twelve training runs with params (nested and
flat), a feature and a project; one errored run; a preparation run whose
outputs (text, CSV, Parquet, PNG, a folder) the training runs read; and a
report step initiated by the last training run; an engine task with two
attempts and a cached task that received its value (``run.upstream_runs``).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import lineage as ln
from lineage import lifecycle

TRAIN_V1 = "import lineage as ln\n\ndef train(lr):\n    return lr * 2\n"
TRAIN_V2 = "import lineage as ln\n\ndef train(lr, epochs=3):\n    return lr * epochs\n"


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG (blue pixels)."""
    raw = b"".join(b"\x00" + b"\x20\x40\xc0" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def _save(folder: Path, name: str, content: bytes | str, key: str) -> Any:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return ln.Artifact(path, key=key).save()


def build(work: Path) -> dict[str, Any]:
    """Fill the current instance; return uids and keys the tests refer to."""
    import pandas as pd

    work.mkdir(parents=True, exist_ok=True)
    ln.Feature(name="experiment", dtype=str).save()
    prepare_t = lifecycle.get_or_create_transform("prepare.py", "print('prepare')\n")
    prep = lifecycle.start_run(prepare_t, params={"rows": 3}, projects=["Demo"],
                               cli_args=["prepare.py", "--rows", "3"])
    activation = lifecycle.activate(prep)
    try:
        text = _save(work, "notes.txt", "hello from the notes\nsecond line\n", "data/notes.txt")
        table = _save(work, "table.csv", "sample,value\ns1,1.5\ns2,2.5\n", "data/table.csv")
        frame = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}),
                                           key="data/frame.parquet").save()
        image = _save(work, "plot.png", png(), "plots/plot.png")
        (work / "folder").mkdir(exist_ok=True)
        (work / "folder" / "one.txt").write_text("1")
        (work / "folder" / "two.txt").write_text("2")
        folder = ln.Artifact(work / "folder", key="data/folder").save()
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(prep, "completed")

    train_v1 = lifecycle.get_or_create_transform("train.py", TRAIN_V1)
    train_v2 = lifecycle.get_or_create_transform("train.py", TRAIN_V2)
    runs = []
    for i in range(12):
        transform = train_v1 if i < 6 else train_v2
        run = lifecycle.start_run(
            transform, entrypoint="train",
            params={"lr": [0.001, 0.01, 0.1][i % 3], "model": {"depth": 2 + i % 4},
                    "tag": f"run-{i:02d}"},
            features={"experiment": "A" if i % 2 == 0 else "B"}, projects=["Demo"],
            inputs=[text, table], cli_args=["train.py", f"--lr={[0.001, 0.01, 0.1][i % 3]}"])
        activation = lifecycle.activate(run)
        try:
            model = _save(work, f"model-{i}.txt", f"weights {i}\n", "models/model.txt")
        finally:
            lifecycle.deactivate(activation)
        lifecycle.finish_run(run, "completed")
        runs.append((run, model))
    failed = lifecycle.start_run(train_v2, entrypoint="train", params={"lr": 5.0},
                                 projects=["Demo"], inputs=[text])
    lifecycle.finish_run(failed, "errored", error="Traceback...\nValueError: lr too large")
    last_run, last_model = runs[-1]
    report_t = lifecycle.get_or_create_transform("report.py", "print('report')\n", kind="step")
    report = lifecycle.start_run(report_t, entrypoint="report", parent=last_run,
                                 inputs=[last_model, frame])
    activation = lifecycle.activate(report)
    try:
        summary = _save(work, "summary.md", "# Summary\n\nall good\n", "reports/summary.md")
    finally:
        lifecycle.deactivate(activation)
    lifecycle.finish_run(report, "completed")
    engine_t = lifecycle.get_or_create_transform("flow.py", "def task(): ...\n", kind="prefect")
    tries = [lifecycle.engine_run(engine_t, external_source="prefect", external_id="task-1",
                                  attempt=n, entrypoint="task", details={"retries": 1})
             for n in (1, 2)]
    lifecycle.finish_run(tries[0], "errored", error="ConnectionError: flaky")
    lifecycle.finish_run(tries[1], "completed")
    cached = lifecycle.engine_run(engine_t, external_source="prefect", external_id="task-2",
                                  entrypoint="task")
    lifecycle.finish_run(cached, "cached")
    lifecycle.record_upstream(cached, tries[1])
    return {
        "attempts": [t.uid for t in tries], "cached": cached.uid,
        "prep": prep.uid, "failed": failed.uid, "report": report.uid,
        "runs": [r.uid for r, _ in runs], "models": [m.uid for _, m in runs],
        "text": text.uid, "table": table.uid, "frame": frame.uid, "image": image.uid,
        "folder": folder.uid, "summary": summary.uid,
        "train_v1": train_v1.uid, "train_v2": train_v2.uid,
        "project": ln.Project.get(name="Demo").uid,
    }
