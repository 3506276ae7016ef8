"""Untracked twin of <tool>_script.py: the same work, no tracking."""

import _common as c

c.work()
c.emit({})
