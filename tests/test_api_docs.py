"""The API reference builds from the docstrings (``scripts/api-docs``, pdoc) and documents every
public name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from conftest import PUBLIC_MODULES, ROOT


def test_api_docs_build_and_name_every_public_name(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    run = subprocess.run(
        [str(ROOT / "scripts" / "api-docs"), str(tmp_path / "api")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = tmp_path / "api"
    assert (out / "index.html").is_file()
    pages = {str(p.relative_to(out).with_suffix("")) for p in out.rglob("*.html")}
    assert pages == {"index"} | {m.replace(".", "/") for m in PUBLIC_MODULES}, pages
    for module in PUBLIC_MODULES:
        page = out / (module.replace(".", "/") + ".html")
        assert page.is_file(), f"no page for {module}"
        documented = set(re.findall(r'<section id="([^"]+)"', page.read_text(encoding="utf-8")))
        missing = [n for n in import_module(module).__all__ if n not in documented]
        assert not missing, f"{module}: names in __all__ missing from {page.name}: {missing}"
