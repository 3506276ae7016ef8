"""Flows and tasks the tests run (module level, so that process pools can import them)."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import INPUTS, RUN_ID
from prefect.task_runners import ProcessPoolTaskRunner

import lineage as ln
from lineage_prefect import flow, task

calls: dict[str, int] = {}


@task
def extract(n: int) -> list[int]:
    return list(range(n))


@task
def total(numbers: list[int]) -> int:
    return sum(numbers)


@flow
def two_tasks(n: int = 3) -> int:
    numbers = extract.submit(n)
    return total.submit(numbers).result()


@task(retries=1)
def flaky(numbers: list[int]) -> int:
    calls["flaky"] = calls.get("flaky", 0) + 1
    if calls["flaky"] == 1:
        raise ValueError("boom on the first attempt")
    return max(numbers)


@flow
def retried(n: int = 4) -> int:
    calls.pop("flaky", None)
    return flaky(extract(n))


@task(cache_policy=INPUTS + RUN_ID)
def double(x: int) -> int:
    calls["double"] = calls.get("double", 0) + 1
    return 2 * x


@flow
def cached_twice(x: int = 5) -> int:
    return double(x) + double(x)


@task
def fail(reason: str) -> None:
    raise RuntimeError(reason)


@flow
def failing(reason: str = "no data") -> None:
    fail(reason)


@flow
def child(numbers: list[int]) -> int:
    return total(numbers)


@flow
def parent(n: int = 3) -> int:
    numbers = extract(n)
    return child(numbers) + 1


@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def in_processes(n: int = 3) -> int:
    first = extract.submit(n)
    second = extract.submit(n + 1)
    return total.submit(first).result() + total.submit(second).result()


@ln.step()
def scale(numbers: list[int], factor: int) -> list[int]:
    return [factor * x for x in numbers]


@task
def scaled(numbers: list[int]) -> list[int]:
    return scale(numbers, 10)


@task
@ln.step()
def stepped(numbers: list[int]) -> int:
    return len(numbers)


@flow
def with_steps(n: int = 3) -> int:
    numbers = extract(n)
    return sum(scaled(numbers)) + stepped(numbers)


@task
def write_table(folder: str, n: int) -> ln.Artifact:
    from pathlib import Path

    path = Path(folder) / "table.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(n)))
    return ln.Artifact(path, key="tables/table.csv").save()


@task
def count_rows(table: ln.Artifact) -> int:
    with table.open() as lines:
        return len(lines.read().splitlines()) - 1


@flow
def artifacts(folder: str, n: int = 3) -> int:
    table = write_table(folder, n)
    return count_rows(table)


@task
def interrupted() -> None:
    raise KeyboardInterrupt


@flow
def crashing() -> None:
    extract(2)
    interrupted()


# --- Prefect's own decorators with lineage's hooks --------------------------------------
import prefect  # noqa: E402
import lineage_prefect  # noqa: E402


@prefect.task(**lineage_prefect.hooks())
def plain_extract(n: int) -> list[int]:
    return list(range(n))


@prefect.task(retries=1, **lineage_prefect.hooks())
def plain_flaky(numbers: list[int]) -> int:
    calls["plain_flaky"] = calls.get("plain_flaky", 0) + 1
    if calls["plain_flaky"] == 1:
        raise ValueError("plain boom")
    return len(numbers)


@prefect.flow(**lineage_prefect.hooks())
def plain(n: int = 2) -> int:
    calls.pop("plain_flaky", None)
    return plain_flaky.submit(plain_extract.submit(n)).result()


@prefect.flow(task_runner=ProcessPoolTaskRunner(max_workers=2), **lineage_prefect.hooks())
def plain_in_processes(n: int = 2) -> int:
    return plain_flaky.submit(plain_extract.submit(n)).result()


#: What `hand_over` does mid-flow (set by a test): cut lineage off its database.
mid_flow: list = []


@task
def hand_over(n: int) -> list[int]:
    for action in mid_flow:
        action()
    return list(range(n))


@flow
def cut_off(n: int = 3) -> int:
    numbers = hand_over(n)
    return total(numbers) + total.submit(numbers).result()


@task
def write_report(path: str) -> str:
    from pathlib import Path

    Path(path).write_text("rows: 3\n")
    ln.Artifact(path, key="reports/summary.txt").save()
    return path


@flow
def report(path: str) -> str:
    return write_report(path)


@task
async def fetch(i: int) -> int:
    return i * i


@flow
async def gather(n: int = 3) -> int:
    import asyncio

    squares = await asyncio.gather(*(fetch(i) for i in range(n)))
    return sum(squares)


@flow
def mapped(n: int = 3) -> int:
    return sum(f.result() for f in fetch.map(range(n)))


# --- a task with a hook of the user's own beside lineage's --------------------------
def users_hook(task: Any, task_run: Any, state: Any) -> None:
    """A state hook of the user's own: Prefect's lines about it must stay."""


@lineage_prefect.task(on_completion=[users_hook])
def hooked(x: int) -> int:
    return x + 1


@lineage_prefect.flow
def logged(n: int) -> int:
    return hooked(n)
