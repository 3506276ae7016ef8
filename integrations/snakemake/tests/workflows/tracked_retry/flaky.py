"""A tracked script that fails the first time it runs in this folder."""

import os

import lineage as ln

snakemake = globals()["snakemake"]  # the object Snakemake hands to every `script:`
first = not os.path.exists("failed_once")
ln.track(params={"first": first})
if first:
    open("failed_once", "w").close()
    raise RuntimeError("the first attempt fails")
with open(snakemake.output[0], "w") as f:
    f.write("ok\n")
ln.finish()
