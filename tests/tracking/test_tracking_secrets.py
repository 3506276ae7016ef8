"""Secrets in what a tracked script prints and in its command line (issue 10, items 10, 12)."""

from __future__ import annotations

import lineage as ln

LEAKY = """
import sys
import lineage as ln
ln.track()
print("cloning https://deploy:S3CRET-1@git.example.com/org/repo.git")
print("connecting with password=S3CRET-2 and Authorization: Bearer S3CRET-3", file=sys.stderr)
"""


def test_the_report_of_a_finished_script_is_redacted(run_script, write_script, instance) -> None:
    script = write_script("leaky_finish.py", LEAKY + "ln.finish()\n")
    run_script(script)

    text = ln.Transform.get(key="leaky_finish.py").latest_run.report.cache().read_text()
    assert "S3CRET" not in text
    assert "https://deploy:***@git.example.com/org/repo.git" in text
    assert "password=*** and Authorization: Bearer ***" in text


def test_the_traceback_in_a_report_is_redacted_like_run_error(run_script, write_script,
                                                              instance) -> None:
    script = write_script("leaky_crash.py", LEAKY + """
def push(url):
    raise ConnectionError(f"cannot push to {url}")
push("https://ci:S3CRET-4@git.example.com/org/repo.git?token=S3CRET-5")
""")
    result = run_script(script, check=False)

    assert result.returncode == 1 and "S3CRET-4" in result.stderr  # the user still sees it
    run = ln.Transform.get(key="leaky_crash.py").latest_run
    assert run.status == "errored"
    text = run.report.cache().read_text()
    assert "ConnectionError: cannot push to https://ci:***@git.example.com" in text
    assert "S3CRET" not in text and "S3CRET" not in run.error


def test_single_dash_secret_options_are_redacted(run_script, write_script, instance) -> None:
    script = write_script("go_style.py", "import lineage as ln\nln.track()\nln.finish()\n")
    run_script(script, "-password", "S3CRET-6", "-token", "S3CRET-7", "-api-key=S3CRET-8",
               "-p", "8080", "-v", "-n", "-1")

    run = ln.Run.filter(transform__key="go_style.py").one()
    assert run.cli_args[1:] == ["-password", "***", "-token", "***", "-api-key=***",
                                "-p", "8080", "-v", "-n", "-1"]
