"""lineage for Prefect: every flow run and task run is a lineage Run.

Switch it on with one change, either the drop-in decorators::

    from lineage_prefect import flow, task     # instead of: from prefect import flow, task

or, keeping Prefect's decorators, lineage's state hooks on each of them::

    from prefect import flow, task
    import lineage_prefect

    @task(**lineage_prefect.hooks())
    def extract() -> list[int]: ...

    @flow(**lineage_prefect.hooks())
    def etl() -> None: ...

What is recorded is described in `lineage_prefect.recorder` and in the
docs (``docs/prefect.md``).
"""

from lineage_prefect.decorators import flow, task
from lineage_prefect.state_hooks import hooks

__all__ = ["flow", "hooks", "task"]
