"""A job's facts from its ``job_info`` event, and its params."""

from __future__ import annotations

from typing import Any

from snakemake_logger_plugin_lineage import internals, metadata

#: Resources Snakemake adds to every job and that say nothing of it.
_HIDDEN_RESOURCES = {"_cores", "_nodes"}


def job_facts(event: dict[str, Any]) -> dict[str, Any]:
    """``run.details`` of a job: rule, job id, wildcards, threads, resources, command, files."""
    facts: dict[str, Any] = {
        "rule": event.get("rule_name"),
        "jobid": event.get("jobid"),
        "wildcards": dict(event.get("wildcards") or {}),
        "threads": event.get("threads"),
        "resources": resources(event.get("resources")),
        "shellcmd": event.get("shellcmd"),
        "reason": event.get("reason"),
        "input": [str(f) for f in event.get("input") or ()],
        "output": [str(f) for f in event.get("output") or ()],
        "log": [str(f) for f in event.get("log") or ()],
    }
    if event.get("benchmark"):
        facts["benchmark"] = str(event["benchmark"])
    if event.get("rule_msg"):
        facts["message"] = str(event["rule_msg"])
    if event.get("is_checkpoint"):
        facts["checkpoint"] = True
    return facts


def resources(value: Any) -> dict[str, Any]:
    """Snakemake's Resources (a named list) as a plain dict."""
    if value is None:
        return {}
    items = value.items() if hasattr(value, "items") else ()
    return {str(k): v for k, v in items if str(k) not in _HIDDEN_RESOURCES}


def job_name(facts: dict[str, Any]) -> str:
    """``align sample=a`` for rule ``align`` with wildcard ``sample=a``."""
    wildcards = " ".join(f"{k}={v}" for k, v in (facts.get("wildcards") or {}).items())
    return f"{facts.get('rule')} {wildcards}".strip()


def job_params(workdir: str, jobid: int, outputs: list[str]) -> dict[str, Any] | None:
    """The job's params: named from the running job, else Snakemake's metadata record."""
    try:
        named = internals.named_params(internals.job_by_id(jobid))
    except Exception:  # noqa: BLE001 - a private API: fall back to the metadata record
        named = None
    if named is not None:
        return named
    recorded = metadata.job_params(workdir, outputs)
    return {"params": recorded} if recorded else None
