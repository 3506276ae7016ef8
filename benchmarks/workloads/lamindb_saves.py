"""Save a big file and many small files as run outputs, then the same content
again."""

import _common as c

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
P = c.PARAMS
small_a = c.small_files(P["small_a"])
small_b = c.small_files(P["small_b"])
r: dict = {"n_small": len(small_a)}

ln.track(params={"workload": "saves"})

t0 = c.perf()
big = ln.Artifact(P["big"], key="big/file.bin").save()
r["big_s"] = c.perf() - t0

t0 = c.perf()
ln.save([ln.Artifact(p, key=f"small/a/{i}.txt") for i, p in enumerate(small_a)])
r["small_bulk_s"] = c.perf() - t0

t0 = c.perf()
for i, p in enumerate(small_b):
    ln.Artifact(p, key=f"small/b/{i}.txt").save()
r["small_each_s"] = c.perf() - t0

t0 = c.perf()
again = ln.Artifact(P["big"], key="big/file.bin").save()
r["big_again_s"] = c.perf() - t0
r["big_again_same_record"] = again.id == big.id

t0 = c.perf()
ln.save([ln.Artifact(p, key=f"small/a/{i}.txt") for i, p in enumerate(small_a)])
r["small_again_s"] = c.perf() - t0

ln.finish()
c.emit(r)
