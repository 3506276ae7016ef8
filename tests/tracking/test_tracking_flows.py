"""``@ln.flow`` and ``@ln.step``: examples as real scripts, and the call semantics."""

from __future__ import annotations

import asyncio
import inspect
import pickle
from pathlib import Path

import pytest

import lineage as ln
from lineage.decorators import Flow, Step

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HERE = Path(__file__).name


# --- the examples, run as scripts -----------------------------------------------------
def test_one_step_flow_example(run_script, instance) -> None:
    script = EXAMPLES / "one_step_flow.py"
    result = run_script(script, "--min-length", "4", "a rose is a rose is a rose")

    assert "{'rose': 3}" in result.stdout
    run = ln.Run.filter(transform__key="one_step_flow.py").one()
    assert run.entrypoint == "count_words"
    assert run.status == "completed"
    assert run.params == {"text": "a rose is a rose is a rose", "min_length": 4}
    assert run.cli_args == [str(script), "--min-length", "4", "a rose is a rose is a rose"]
    assert run.initiated_by_run_id is None
    transform = run.transform
    assert transform.kind == "flow"
    assert transform.source_code == script.read_text()
    assert [p.name for p in run.projects] == ["Examples"]
    assert [p.name for p in transform.projects] == ["Examples"]


def test_flow_with_step_example_links_steps_to_the_flow(run_script, instance) -> None:
    script = EXAMPLES / "flow_with_step.py"
    run_script(script, "--n", "2", "--text", "b a b c")
    run_script(script, "--n", "1", "--text", "x y")

    runs = ln.Run.filter(transform__key="flow_with_step.py").order_by("id").all()
    assert [r.entrypoint for r in runs] == ["main", "tokenize", "subset"] * 2
    flow_run, tokenize_run, subset_run = runs[:3]
    assert flow_run.params == {"text": "b a b c", "n": 2}
    assert tokenize_run.params == {"text": "b a b c"}
    assert subset_run.params == {"words": ["b", "a", "b", "c"], "n": 2}
    assert tokenize_run.initiated_by_run == flow_run
    assert subset_run.initiated_by_run == flow_run
    assert runs[4].initiated_by_run == runs[3]
    assert {r.transform_id for r in runs} == {flow_run.transform_id}
    assert ln.Transform.filter(key="flow_with_step.py").count() == 1
    assert len({r.environment_id for r in runs}) == 1
    assert all(r.status == "completed" for r in runs)
    project = ln.Project.get(name="Examples")
    assert {r.uid for r in project.runs} == {r.uid for r in runs}  # steps inherit the project
    assert set(flow_run.initiated_runs.all()) == {tokenize_run, subset_run}


def test_click_flow_example_params_and_redacted_cli_args(run_script, instance) -> None:
    script = EXAMPLES / "click_flow.py"
    args = ["--learning-rate", "0.1", "--epochs", "3", "--password", "hunter2", "--api-key=sk-live-42"]
    result = run_script(script, *args)

    assert "weight after 3 epochs" in result.stdout
    run = ln.Run.filter(transform__key="click_flow.py").one()
    assert run.entrypoint == "train"
    assert run.params == {"learning_rate": 0.1, "epochs": 3, "password": "***", "api_key": "***"}
    assert run.cli_args == [str(script), "--learning-rate", "0.1", "--epochs", "3",
                            "--password", "***", "--api-key=***"]
    stored = str(instance.db.query("SELECT params, cli_args, error FROM run"))
    assert "hunter2" not in stored and "sk-live-42" not in stored


def test_steps_in_threads_and_tasks_link_to_the_flow(run_script, write_script, instance) -> None:
    script = write_script("concurrent_steps.py", """
        import asyncio, threading
        from concurrent.futures import ThreadPoolExecutor
        import lineage as ln

        @ln.step()
        def square(x: int) -> int:
            return x * x

        @ln.step()
        async def cube(x: int) -> int:
            await asyncio.sleep(0.01)
            return x ** 3

        @ln.flow()
        def main() -> None:
            with ThreadPoolExecutor(4) as pool:
                assert list(pool.map(square, range(4))) == [0, 1, 4, 9]
            thread = threading.Thread(target=square, args=(10,))
            thread.start()
            thread.join()
            assert asyncio.run(gather()) == [0, 1, 8]

        async def gather():
            return await asyncio.gather(*(cube(i) for i in range(3)))

        main()
    """)
    run_script(script)

    flow_run = ln.Run.filter(transform__key="concurrent_steps.py", entrypoint="main").one()
    steps = ln.Run.filter(transform__key="concurrent_steps.py", entrypoint__ne="main").all()
    assert sorted(r.entrypoint for r in steps) == ["cube"] * 3 + ["square"] * 5
    assert {r.initiated_by_run_id for r in steps} == {flow_run.id}
    assert sorted(r.params["x"] for r in steps if r.entrypoint == "square") == [0, 1, 2, 3, 10]
    assert all(r.status == "completed" for r in [flow_run, *steps])


def test_flow_exception_marks_flow_and_step_errored(run_script, write_script, instance) -> None:
    script = write_script("failing_flow.py", """
        import lineage as ln
        @ln.step()
        def divide(a: float, b: float) -> float:
            return a / b
        @ln.flow()
        def main() -> None:
            divide(1, 0)
        main()
    """)
    result = run_script(script, check=False)

    assert result.returncode == 1 and "ZeroDivisionError" in result.stderr
    runs = ln.Run.filter(transform__key="failing_flow.py").order_by("id").all()
    assert [(r.entrypoint, r.status) for r in runs] == [("main", "errored"), ("divide", "errored")]
    assert all("ZeroDivisionError: division by zero" in r.error for r in runs)


# --- call semantics, in this process ----------------------------------------------------
class PipelineError(Exception):
    pass


@ln.step()
def double(x: int, factor: int = 2, *extra: int, **options: str) -> int:
    """Multiply `x` by `factor`."""
    return x * factor


@ln.step
def explode(error: BaseException) -> None:
    raise error


@ln.flow(project="Flows")
def pipeline(x: int, fail: BaseException | None = None) -> int:
    """A flow calling steps."""
    if fail is not None:
        explode(fail)
    return double(x) + double(x, 3, 4, 5, mode="fast")


def test_definition_objects_keep_the_function_identity() -> None:
    assert isinstance(pipeline, Flow) and isinstance(double, Step) and isinstance(explode, Step)
    assert double.__name__ == "double" and double.__doc__ == "Multiply `x` by `factor`."
    assert double.__wrapped__.__name__ == "double"
    assert double.__module__ == __name__
    assert inspect.signature(double) == inspect.signature(double.fn)
    assert double.signature is double.signature  # cached
    other = pipeline.with_options(project="Other")
    assert other is not pipeline and other.project == "Other" and pipeline.project == "Flows"
    assert other.fn is pipeline.fn
    assert pickle.loads(pickle.dumps(double)) is double  # by reference, for process pools
    with pytest.raises(TypeError, match="generator"):
        @ln.step()
        def numbers():  # noqa: ANN202
            yield 1


def test_flow_and_steps_record_bound_params_and_parents(instance) -> None:
    assert pipeline(5) == 10 + 15

    runs = ln.Run.filter(transform__key=HERE).order_by("id").all()
    assert [r.entrypoint for r in runs] == ["pipeline", "double", "double"]
    flow_run, first, second = runs
    assert flow_run.params == {"x": 5, "fail": None}
    assert first.params == {"x": 5, "factor": 2, "extra": []}
    assert second.params == {"x": 5, "factor": 3, "extra": [4, 5], "mode": "fast"}
    assert first.initiated_by_run == flow_run and second.initiated_by_run == flow_run
    assert runs[0].transform.kind == "flow"
    assert runs[0].transform.source_code == Path(__file__).read_text()
    project = ln.Project.get(name="Flows")
    assert {r.uid for r in project.runs} == {r.uid for r in runs}
    assert [t.key for t in project.transforms] == [HERE]
    from lineage.context import current_run

    assert current_run() is None  # nothing leaks after the call


def test_exception_is_reraised_unchanged_and_recorded(instance) -> None:
    error = PipelineError("bad input")
    with pytest.raises(PipelineError) as info:
        pipeline(1, fail=error)

    assert info.value is error
    assert info.traceback[-1].name == "explode"  # raised where it happened
    flow_run, step_run = ln.Run.filter(transform__key=HERE).order_by("id").all()
    assert (flow_run.status, step_run.status) == ("errored", "errored")
    assert "PipelineError: bad input" in step_run.error
    assert flow_run.params["fail"]["__repr__"] == "PipelineError('bad input')"


def test_keyboard_interrupt_aborts(instance) -> None:
    with pytest.raises(KeyboardInterrupt):
        explode(KeyboardInterrupt())
    assert ln.Run.filter(entrypoint="explode").one().status == "aborted"


def test_bad_arguments_raise_before_any_run(instance) -> None:
    with pytest.raises(ln.errors.ParameterBindError, match="double") as info:
        double("a", "b", bad_keyword=1, factor=2)  # type: ignore[call-arg]
    assert isinstance(info.value, TypeError)
    assert ln.Run.filter().count() == 0


def test_step_outside_a_flow_is_a_standalone_run(instance) -> None:
    assert double(4) == 8
    run = ln.Run.filter(entrypoint="double").one()
    assert run.initiated_by_run_id is None and run.status == "completed"
    assert ln.Project.filter(name="Flows").count() == 0


def test_nested_flows_link_to_the_outer_flow(instance) -> None:
    @ln.flow()
    def outer() -> int:
        return pipeline(1)

    outer()
    outer_run = ln.Run.filter(entrypoint__endswith="outer").one()
    inner_run = ln.Run.filter(entrypoint="pipeline").one()
    assert inner_run.initiated_by_run == outer_run
    assert {r.initiated_by_run_id for r in ln.Run.filter(entrypoint="double")} == {inner_run.id}


def test_async_flow_with_concurrent_async_steps(instance) -> None:
    @ln.step()
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.001 * (3 - i))
        return i

    @ln.flow()
    async def crawl(n: int) -> list[int]:
        return list(await asyncio.gather(*(fetch(i) for i in range(n))))

    assert inspect.iscoroutinefunction(crawl.fn) and asyncio.iscoroutinefunction(crawl)
    assert not asyncio.iscoroutinefunction(double)
    assert asyncio.run(crawl(3)) == [0, 1, 2]
    flow_run = ln.Run.filter(entrypoint__endswith="crawl").one()
    steps = ln.Run.filter(entrypoint__endswith="fetch").all()
    assert len(steps) == 3
    assert {s.initiated_by_run_id for s in steps} == {flow_run.id}
    assert {s.status for s in [flow_run, *steps]} == {"completed"}


def test_methods_can_be_steps(instance) -> None:
    class Model:
        def __init__(self, scale: int) -> None:
            self.scale = scale

        @ln.step()
        def predict(self, x: int) -> int:
            return x * self.scale

    model = Model(3)
    assert model.predict(2) == 6
    assert model.predict.__name__ == "predict" and model.predict.__self__ is model
    run = ln.Run.filter(entrypoint__endswith="Model.predict").one()
    assert run.params == {"x": 2}  # the instance is not a parameter


def test_transform_is_resolved_per_instance(instance, tmp_path: Path) -> None:
    double(1)
    first_transform = ln.Run.filter(entrypoint="double").one().transform_id
    ln.init(storage=tmp_path / "other")  # switch instance: caches must not leak across
    from lineage import lifecycle

    dummy = lifecycle.get_or_create_transform("dummy.py", "print(1)\n")
    double(1)
    run = ln.Run.filter(entrypoint="double").one()
    assert run.transform_id != dummy.id
    assert ln.Transform.get(run.transform_id).key == HERE
    assert first_transform is not None


def test_artifacts_link_to_runs_and_projects(instance, tmp_path: Path) -> None:
    source = tmp_path / "sample.txt"
    source.write_text("ACGT\n")

    @ln.step()
    def count(artifact: ln.Artifact) -> ln.Artifact:
        out = tmp_path / "count.txt"
        out.write_text(str(len(artifact.cache().read_text().strip())))
        return ln.Artifact(out, key="counts/sample.txt").save()

    @ln.flow(project="Sequencing")
    def analyse() -> ln.Artifact:
        raw = ln.Artifact(source, key="raw/sample.txt").save()
        return count(raw)

    result = analyse()
    flow_run = ln.Run.filter(entrypoint__endswith="analyse").one()
    step_run = ln.Run.filter(entrypoint__endswith="count").one()
    raw = ln.Artifact.get(key="raw/sample.txt")
    assert raw.run == flow_run and result.run == step_run
    assert step_run.input_artifacts.all() == [raw]  # the argument, recorded as an input
    assert step_run.params["artifact"] == {"__record__": "Artifact", "uid": raw.uid}
    project = ln.Project.get(name="Sequencing")
    assert {a.key for a in project.artifacts} == {"raw/sample.txt", "counts/sample.txt"}


def test_forked_children_link_to_the_active_flow(run_script, write_script, instance) -> None:
    script = write_script("forked.py", """
        import multiprocessing as mp
        import lineage as ln

        @ln.step()
        def work(i: int) -> int:
            return i + 1

        @ln.flow()
        def main() -> None:
            for method in ("fork", "spawn"):
                with mp.get_context(method).Pool(2) as pool:
                    assert pool.map(work, range(2)) == [1, 2]

        if __name__ == "__main__":
            main()
    """)
    run_script(script)

    flow_run = ln.Run.filter(transform__key="forked.py", entrypoint="main").one()
    steps = ln.Run.filter(transform__key="forked.py", entrypoint="work").all()
    assert len(steps) == 4
    assert {s.initiated_by_run_id for s in steps} == {flow_run.id}
    assert {s.status for s in steps} == {"completed"}
    assert flow_run.status == "completed"


def test_lossy_param_warning_points_at_the_users_call(instance) -> None:
    class Opaque:
        pass

    @ln.step()
    def takes(obj: object) -> None:
        return None

    with pytest.warns(UserWarning, match="parameter 'obj'") as record:
        takes(Opaque())
    assert record[0].filename == __file__


def test_a_step_of_a_package_inside_the_dev_dir_is_keyed_by_package(run_script, write_script,
                                                                     instance, tmp_path) -> None:
    script = write_script("run_pkg.py", """
        import lineage as ln
        from pkgsteps.steps import double

        ln.track()
        double(2)
        ln.finish()
    """)
    package = script.parent / "pkgsteps"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "steps.py").write_text(
        "import lineage as ln\n\n\n@ln.step()\ndef double(x: int) -> int:\n    return 2 * x\n")
    ln.settings.dev_dir = str(script.parent)
    run_script(script)
    step = ln.Run.get(entrypoint="double")
    assert step.transform.key == "pypackages/pkgsteps/steps.py"  # not "pkgsteps/steps.py"
    assert ln.Run.get(transform__key="run_pkg.py").uid == step.initiated_by_run.uid
