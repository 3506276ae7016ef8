"""A rule's script that tracks itself: its run links to the job that started it."""

import time

import lineage as ln

snakemake = globals()["snakemake"]  # the object Snakemake hands to every `script:`
ln.track(params={"word": snakemake.wildcards.word})
with open(snakemake.input[0]) as f:
    text = f.read()
time.sleep(1)  # both jobs of the rule run at once
with open(snakemake.output[0], "w") as f:
    f.write(text.upper())
ln.finish()
