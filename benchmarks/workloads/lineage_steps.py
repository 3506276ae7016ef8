"""Overhead per step: a trivial function as a step inside a flow (_same_api.steps)."""

import _common as c
import _same_api

import lineage as ln

ln.connect(c.PARAMS["storage"])
c.emit(_same_api.steps(ln))
