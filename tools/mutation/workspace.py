"""Copies of the project where mutants live: never the working tree.

A copy holds the files git would commit (tracked and untracked-but-not-ignored, as they are
in the working tree now, symbolic links kept as links: ``sipfsm/model/_models`` must still
reach ``models/``), inside ``.mutation/`` (git-ignored). Beside each copy, ``shared`` links to
the read-only shared folder (RFC text, RFC 4475 corpus, peer configurations), so that
``ROOT.parent / "shared"`` of the tests and the package's own look-ups find it there too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tools.mutation.table import TEST_TIMEOUT

#: The project root (the folder holding pyproject.toml).
ROOT = Path(__file__).resolve().parents[2]
#: Where every copy lives (git-ignored).
WORK = ROOT / ".mutation"
#: Names a sync never removes from a copy: mutmut's output and the links made here.
_KEEP = frozenset({"mutants", "shared", ".git", ".cache", ".hypothesis"})


def shared_dir() -> Path:
    """The shared folder: ``$SIPFSM_SHARED``, else ``shared`` beside the project."""
    return Path(os.environ.get("SIPFSM_SHARED", str(ROOT.parent / "shared"))).resolve()


def tree_files(root: Path = ROOT) -> list[str]:
    """Paths (relative, sorted) of the files a commit would hold, as they are now."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    names = {n for n in out.split("\0") if n}
    return sorted(n for n in names if os.path.lexists(root / n))


def _same(src: Path, dst: Path) -> bool:
    if src.is_symlink() or dst.is_symlink():
        return dst.is_symlink() and src.is_symlink() and os.readlink(src) == os.readlink(dst)
    if not dst.exists():
        return False
    a, b = src.stat(), dst.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _copy_one(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.is_file():
        dst.unlink()
    elif dst.is_dir():
        shutil.rmtree(dst)
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)


def _prune(dst: Path, wanted: set[str]) -> None:
    """Remove from ``dst`` every file that is not in ``wanted`` (outside :data:`_KEEP`)."""
    for dirpath, dirnames, filenames in os.walk(dst):
        rel_dir = Path(dirpath).relative_to(dst)
        if rel_dir == Path("."):
            dirnames[:] = [d for d in dirnames if d not in _KEEP]
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = str(rel_dir / name) if rel_dir != Path(".") else name
            if rel not in wanted and name not in _KEEP:
                (Path(dirpath) / name).unlink()


def sync(dst: Path, root: Path = ROOT) -> None:
    """Make ``dst`` a copy of the tree, copying only what changed (mtimes kept: mutmut
    regenerates the mutants of a file only when it is newer than its mutated copy)."""
    files = tree_files(root)
    dst.mkdir(parents=True, exist_ok=True)
    for name in files:
        src, out = root / name, dst / name
        if not _same(src, out):
            _copy_one(src, out)
    _prune(dst, set(files))
    link_shared(dst.parent)


def fresh_copy(dst: Path, root: Path = ROOT) -> None:
    """``dst`` becomes an exact copy of the tree (what was there is removed)."""
    if dst.exists():
        shutil.rmtree(dst)
    sync(dst, root)


def clone(src: Path, dst: Path) -> None:
    """``dst`` becomes a copy of the copy ``src`` (links kept)."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))


def link_shared(folder: Path) -> None:
    """``folder/shared`` links to the shared folder (when that exists)."""
    target = shared_dir()
    link = folder / "shared"
    if not target.is_dir() or link.resolve() == target:
        return
    if link.is_symlink():
        link.unlink()
    if not link.exists():
        os.symlink(target, link)


def env(copy: Path) -> dict[str, str]:
    """The environment of a test run in ``copy``: its own package first, the shared folder,
    a Lark cache of its own, the deterministic Hypothesis profile (``hypothesis_profile.py``
    drops its shrinking)."""
    out = dict(os.environ)
    out.update(
        PYTHONPATH=str(copy),
        SIPFSM_SHARED=str(shared_dir()),
        XDG_CACHE_HOME=str(WORK / ".cache"),
        HYPOTHESIS_PROFILE="ci",
        SIPFSM_MUTATION_BOUND=str(TEST_TIMEOUT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    out.pop("SIPFSM_MODELS", None)
    return out


def git_commit(root: Path = ROOT) -> str:
    """HEAD's commit, with ``+dirty`` when tracked files differ from it."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=root).returncode != 0
    return head + ("+dirty" if dirty else "")
