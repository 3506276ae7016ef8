"""A one-step flow: the whole workflow is one tracked function.

Run it with ``python examples/one_step_flow.py [--min-length N] [TEXT]``.
Each call of ``count_words`` is a Run of the Transform ``one_step_flow.py``
(this file's source) with the call's arguments as ``run.params``.
"""

from __future__ import annotations

import argparse

import lineage as ln


@ln.flow(project="Examples")
def count_words(text: str, min_length: int = 3) -> dict[str, int]:
    """Count the words of `text` that have at least `min_length` letters."""
    counts: dict[str, int] = {}
    for word in text.lower().split():
        word = word.strip(".,;:!?")
        if len(word) >= min_length:
            counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Count words, tracked as a flow.")
    parser.add_argument("text", nargs="?", default="the quick brown fox jumps over the lazy dog the end")
    parser.add_argument("--min-length", type=int, default=3)
    args = parser.parse_args()
    print(count_words(args.text, min_length=args.min_length))
