"""A flow calling steps: each step call is a Run initiated by the flow's run.

Run it with ``python examples/flow_with_step.py [--n N]``. The flow and its
steps live in this file, so all their runs belong to the Transform
``flow_with_step.py``; ``run.entrypoint`` tells them apart and
``step_run.initiated_by_run`` is the flow's run.
"""

from __future__ import annotations

import argparse

import lineage as ln


@ln.step()
def tokenize(text: str) -> list[str]:
    """Split `text` into lowercase words."""
    return [w.strip(".,;:!?") for w in text.lower().split()]


@ln.step()
def subset(words: list[str], n: int = 2) -> list[str]:
    """The first `n` distinct words."""
    seen: list[str] = []
    for word in words:
        if word not in seen:
            seen.append(word)
    return seen[:n]


@ln.flow(project="Examples")
def main(text: str, n: int = 2) -> list[str]:
    """Tokenize `text`, then keep the first `n` distinct words."""
    return subset(tokenize(text), n=n)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A flow calling two steps.")
    parser.add_argument("--text", default="To be, or not to be: that is the question.")
    parser.add_argument("--n", type=int, default=3)
    args = parser.parse_args()
    print(main(args.text, n=args.n))
