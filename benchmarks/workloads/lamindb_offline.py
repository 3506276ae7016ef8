"""Offline check (not timed): track a run, save an artifact, finish, with the
harness's network watch on. P["hub_flag"] false leaves LaminDB as installed,
to show what happens offline without the private switch."""

import _common as c

import lamindb as ln

if c.PARAMS.get("hub_flag", True):
    ln.setup.settings.instance._is_on_hub = False
ln.track(params={"check": "offline"})
ln.Artifact(c.PARAMS["file"], key="offline/check.txt").save()
ln.finish()
c.emit({})
