"""LaminDB runs ``pip freeze`` on every track() and step; lineage never starts pip.

A real tracked script with an audit hook records every subprocess it starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


SCRIPT = """
import json, sys
started = []
sys.addaudithook(lambda event, args: started.append(repr(args[1])) if event == "subprocess.Popen" else None)
import lineage as ln
ln.track(params={"a": 1})

@ln.step()
def one(x: int) -> int:
    return x

@ln.flow()
def main() -> None:
    for i in range(3):
        one(i)

main()
ln.finish()
print(json.dumps(started))
"""


def test_tracking_and_steps_never_start_pip(tmp_path, sqlite_instance):
    script = tmp_path / "tracked.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    env["LINEAGE_INSTANCE"] = str(sqlite_instance.root)
    env["LINEAGE_CONFIG_DIR"] = str(tmp_path / "cfg")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    started = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [cmd for cmd in started if "pip" in cmd], started
    import lineage as ln

    run = ln.Run.filter(transform__key="tracked.py", entrypoint=None).one()
    assert run.environment.packages["pytest"]  # the environment was captured all the same
