"""A click command whose body is a flow.

Run it with ``python examples/click_flow.py --learning-rate 0.1 --epochs 3``.
click parses the command line and calls the flow with keyword arguments,
which become ``run.params``; ``run.cli_args`` holds the command line as
typed. Secrets never reach the database: ``--password x`` and
``--api-key=x`` are stored as ``***`` in both.
"""

from __future__ import annotations

import click

import lineage as ln


@click.command()
@click.option("--learning-rate", type=float, default=0.01, show_default=True)
@click.option("--epochs", type=int, default=2, show_default=True)
@click.option("--password", default=None, help="Demonstrates redaction.")
@click.option("--api-key", default=None, help="Demonstrates redaction.")
@ln.flow(project="Examples")
def train(learning_rate: float, epochs: int, password: str | None, api_key: str | None) -> float:
    """Fit y = 2x by gradient descent and print the final weight."""
    weight = 0.0
    data = [(x / 10, 2 * x / 10) for x in range(10)]
    for _ in range(epochs):
        for x, y in data:
            weight -= learning_rate * 2 * (weight * x - y) * x
    click.echo(f"weight after {epochs} epochs: {weight:.4f}")
    return weight


if __name__ == "__main__":
    train()
