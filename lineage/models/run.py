"""Run: one execution of a Transform, with everything it captured."""

from __future__ import annotations

from typing import Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index, ManyToMany, Reverse
from lineage.db.record import Record
from lineage.db.space_column import space_field
from lineage.has_features import HasFeatures

#: Allowed values of `Run.status`; engines also report ``cached`` and ``skipped``.
STATUSES = ("scheduled", "started", "completed", "errored", "aborted", "cached", "skipped")


class Run(HasFeatures, Record):
    """One execution of a transform.

    Attributes:
        entrypoint: Qualified name of the flow or step function, if any.
        status: One of `STATUSES`.
        params: Parameters (JSON; records as references).
        cli_args: ``sys.argv`` with secrets redacted.
        git: Commit, branch, dirty flag, remote and path of the source.
        error: Traceback of an errored run.
        external_id: Identifier in an external engine (Prefect task-run id, ...).
        external_source: Name of that engine (``"prefect"``, ``"airflow"``, ...).
        attempt: 1 for a first execution; each retry of an engine task is its
            own run with the same ``external_id`` and the next attempt.
        details: Engine facts that are not parameters (JSON): rule, wildcards,
            resources, work dir, timings, ...
    """

    __tablename__ = "run"
    uid_length = 16
    feature_table = ("run_feature_value", "run_id")
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=16),
        "transform_id": Field("bigint", nullable=False, references="transform"),
        "entrypoint": Field("text"),
        "name": Field("text"),
        "status": Field("str", nullable=False, default="started", length=16, index=True),
        "started_at": Field("datetime", nullable=False, default=utcnow, index=True),
        "finished_at": Field("datetime"),
        "params": Field("json"),
        "cli_args": Field("json"),
        "environment_id": Field("bigint", references="environment"),
        "git": Field("json"),
        "error": Field("text"),
        "report_id": Field("bigint", references="artifact", on_delete="SET NULL"),
        "initiated_by_run_id": Field("bigint", references="run", index=True),
        "external_id": Field("text", index=True),
        "external_source": Field("str", length=64),
        "attempt": Field("int", nullable=False, default=1),
        "details": Field("json"),
        "pid": Field("int"),
        "host": Field("text"),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(),
    }
    #: What the run captured and how it ended is lineage's record; ``name`` is
    #: the user's (statuses are corrected through the run lifecycle).
    system_fields = frozenset({
        "uid", "transform_id", "entrypoint", "status", "started_at", "finished_at", "params",
        "cli_args", "environment_id", "git", "error", "report_id", "initiated_by_run_id",
        "external_id", "external_source", "attempt", "details", "pid", "host", "created_by_id",
        "space_id",
    })
    relations = {
        "transform": ForeignKey("transform_id", "Transform"),
        "environment": ForeignKey("environment_id", "Environment"),
        "initiated_by_run": ForeignKey("initiated_by_run_id", "Run"),
        "initiated_runs": Reverse("Run", "initiated_by_run_id"),
        "output_artifacts": Reverse("Artifact", "run_id"),
        "input_artifacts": ManyToMany("run_input", "run_id", "artifact_id", "Artifact"),
        "recreated_artifacts": ManyToMany("artifact_previous_run", "run_id", "artifact_id", "Artifact"),
        "projects": ManyToMany("project_run", "run_id", "project_id", "Project", editable=True),
        "labels": ManyToMany("run_label", "run_id", "label_id", "Label", editable=True),
        "feature_values": Reverse("FeatureValue", "run_id"),
        "upstream_runs": ManyToMany("run_upstream", "run_id", "upstream_run_id", "Run"),
        "downstream_runs": ManyToMany("run_upstream", "upstream_run_id", "run_id", "Run"),
    }
    indexes = (
        # One run per attempt of an engine task: the backstop of `lifecycle.engine_run`.
        Index("uq_run_external_attempt", ("external_source", "external_id", "attempt"),
              unique=True, where="external_id IS NOT NULL"),
        # A transform's runs newest first (and any lookup by transform_id): a walk
        # of this index that stops after the page, however many runs the transform has.
        Index("ix_run_transform_started", ("transform_id", "started_at", "id")),
        # ``Run.filter(params__lr=0.01)``: PostgreSQL answers JSON equality from
        # this index through containment (`PostgresDialect.json_equals`).
        Index("ix_run_params", ("params",), postgresql_gin="jsonb_path_ops"),
    )

    @property
    def attempts(self) -> Any:
        """Every attempt of this run's engine task, first attempt first.

        A run without an ``external_id`` is its own only attempt.
        """
        if self.external_id is None:
            return Run.filter(id=self.id if self.id is not None else -1)
        return Run.filter(external_source=self.external_source,
                          external_id=self.external_id).order_by("attempt")

    @property
    def report(self) -> Any:
        """The artifact holding what the run printed, or None."""
        if self.report_id is None:
            return None
        from lineage.artifact import Artifact

        return Artifact.objects_unhidden().filter(id=self.report_id).first()

    def view_lineage(self, filename: Any = None, format: str | None = None,  # noqa: A002
                     **kwargs: Any) -> Any:
        """Draw this run's lineage with Graphviz; see `lineage.graph.render.view_lineage`."""
        from lineage.graph.render import view_lineage

        return view_lineage(self, filename, format, **kwargs)
