"""Overhead per step: a trivial function as a step inside a flow (_same_api.steps)."""

import _common as c
import _same_api

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
c.emit(_same_api.steps(ln))
