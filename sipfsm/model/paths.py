"""Where the model files are: ``models/`` of the checkout, shipped inside the package."""

from __future__ import annotations

from pathlib import Path

#: The files of a models folder that are not state machines.
SHARED_FILES: tuple[str, ...] = ("vocabulary.toml", "timers.toml")


def models_dir() -> Path:
    """The folder holding the model files: ``models/`` of the checkout, which the package
    reaches through its ``_models`` link (a wheel carries the files themselves there)."""
    return (Path(__file__).parent / "_models").resolve()


def model_paths(directory: Path | None = None) -> list[Path]:
    """The model files of ``directory`` (default :func:`models_dir`), sorted by name: every
    ``*.toml`` file but the vocabulary and the timer table (a folder named ``x.toml`` is not a
    model). Included rule files live in its ``shared/`` subfolder and are not models
    (``models/SCHEMA.md``)."""
    folder = directory or models_dir()
    return sorted(p for p in folder.glob("*.toml") if p.name not in SHARED_FILES and p.is_file())
