"""Offline check (not timed): track a run, save an artifact, finish, with the
harness's network watch on."""

import _common as c

import lineage as ln

ln.connect(c.PARAMS["storage"])
ln.track(params={"check": "offline"})
ln.Artifact(c.PARAMS["file"], key="offline/check.txt").save()
ln.finish()
c.emit({})
