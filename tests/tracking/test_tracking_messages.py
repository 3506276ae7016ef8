"""``ln.track()`` and ``ln.finish()`` say what they did in one line each; flows and steps do not."""

from __future__ import annotations

import lineage as ln

SCRIPT = """
import lineage as ln
ln.track()
print("work")
ln.finish()
"""


def test_track_and_finish_say_what_they_did(run_script, write_script, instance) -> None:
    result = run_script(write_script("said.py", SCRIPT))
    run = ln.Run.get(transform__key="said.py")
    lines = [line for line in result.stderr.splitlines() if line.startswith("lineage:")]
    assert lines == [
        f"lineage: tracking said.py v1 (script), run {run.uid}",
        f"lineage: finished run {run.uid} of said.py v1 (script): completed; "
        f"report: artifact {run.report.uid} (stdout and stderr)",
    ]
    assert result.stdout == "work\n"  # the program's output stays its own
    assert run.report.cache().read_text() == "work\n"  # and the messages are not in the report


def test_verbosity_silences_them(run_script, write_script, instance) -> None:
    script = write_script("quiet.py", SCRIPT)
    assert "lineage:" not in run_script(script, extra_env={"LINEAGE_VERBOSITY": "warning"}).stderr
    ln.settings.verbosity = "warning"
    assert "lineage:" not in run_script(script).stderr
    ln.settings.verbosity = "info"
    assert "lineage: tracking" in run_script(script).stderr


def test_flows_and_steps_stay_silent(run_script, write_script, instance) -> None:
    script = write_script("silent_flow.py", """
        import lineage as ln

        @ln.step()
        def step(x: int) -> int:
            return x

        @ln.flow()
        def main() -> int:
            return step(1)

        main()
    """)
    result = run_script(script)
    assert "lineage:" not in result.stderr + result.stdout
    assert ln.Run.filter(transform__key="silent_flow.py").count() == 2
