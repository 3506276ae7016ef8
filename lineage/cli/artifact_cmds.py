"""``lineage save`` and ``lineage doctor``."""

from __future__ import annotations

from typing import Any

import click


def register(cli: Any) -> None:
    """Add the artifact commands to `cli`."""
    cli.add_command(save)
    cli.add_command(doctor)


@click.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option("--key", default=None, help="Path-like name in storage, e.g. raw/sample.fasta.")
@click.option("--description", default=None, help="Free text.")
@click.option("--registry", type=click.Choice(["artifact", "transform"]), default="artifact",
              show_default=True,
              help="transform: save a script or notebook (a template, say) as a Transform.")
def save(path: str, key: str | None, description: str | None, registry: str) -> None:
    """Save the file or folder PATH as an artifact (a new version if KEY exists).

    With ``--registry transform``, save the script or notebook PATH as a
    Transform without running it (a notebook without its outputs), so that
    ``lineage load --key KEY`` gives it to others as a template.
    """
    if registry == "transform":
        _save_transform(path, key, description)
        return
    import warnings

    from lineage.artifact import Artifact
    from lineage.storage.keys import validate_key

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        artifact = Artifact(path, key=key, description=description)
        existed = artifact.id is not None  # the same content is saved already
        artifact.save()
    for warning in caught:
        click.echo(f"note: {warning.message}", err=True)
    facts = (f"{artifact.uid}  key={artifact.key or '-'}  version={artifact.version}  "
             f"size={artifact.size}  sha256={artifact.hash}")
    if not existed:
        click.echo(f"saved {facts}")
    elif key is None or artifact.key == validate_key(key):
        click.echo(f"already saved: {path} is {facts}")
    else:
        click.echo(
            f"existing {facts} returned: {path} has the same content, so --key {key} was not "
            "applied. To store a copy under that key: lineage settings set "
            "upon-artifact-create-if-hash-exists warn_create_new"
        )


def _save_transform(path: str, key: str | None, description: str | None) -> None:
    from pathlib import Path

    from lineage import lifecycle
    from lineage.capture.notebook import notebook_transform_source
    from lineage.capture.source import read_source, transform_key
    from lineage.instance import current_instance

    file = Path(path)
    if not file.is_file():
        raise click.ClickException(f"{path} is not a file: --registry transform saves one script "
                                   "or notebook.")
    notebook = file.suffix == ".ipynb"
    source = notebook_transform_source(file) if notebook else read_source(file)
    if key is None:
        dev_dir = current_instance().settings.dev_dir
        key = transform_key(file, Path(dev_dir) if dev_dir else None)
    elif not key.strip() or key.startswith("/") or ".." in key.split("/"):
        raise click.ClickException(f"--key {key!r} must be a relative path such as "
                                   "templates/t1.ipynb.")
    # the same key and source: the version saved before
    transform = lifecycle.get_or_create_transform(key, source, "notebook" if notebook else "script",
                                                  description=description)
    click.echo(f"saved transform {transform.uid}  key={transform.key}  "
               f"version={transform.version}  kind={transform.kind}")


@click.command()
@click.option("--fix", is_flag=True, help="Repair what can be repaired (default: report only).")
@click.option("--grace", type=float, default=3600.0, show_default=True,
              help="Seconds: leave rows, objects and temporary files younger than this alone.")
@click.option("--verify", is_flag=True,
              help="Hash every stored object and compare (a mismatching one loses its seal).")
def doctor(fix: bool, grace: float, verify: bool) -> None:
    """Find (and with --fix repair) interrupted saves, orphaned and broken objects.

    Exit status: 0 when nothing is (left) wrong, 1 otherwise.
    """
    from lineage.artifacts.doctor import run_doctor

    report = run_doctor(fix=fix, grace_seconds=grace, verify=verify)
    click.echo(report.render())
    if report.exit_code:
        raise SystemExit(report.exit_code)
