"""``sipfsm site OUT [--lang en|zh]`` (issue 17): it writes the site and says how to open it;
bad input is one line and exit 2, never a traceback, and nothing is written for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipfsm.cli.main import main as cli_main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_site_writes_both_languages_and_opens_the_one_asked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    code, text, err = _run(capsys, "site", str(out), "--lang", "zh")
    assert code == 0, err
    assert (out / "en" / "index.html").is_file() and (out / "zh" / "index.html").is_file()
    assert "url=zh/index.html" in (out / "index.html").read_text(encoding="utf-8")
    assert f"Open {(out / 'index.html').resolve().as_uri()} in a browser" in text
    assert {p.relative_to(out).parts[0] for p in out.rglob("*") if p.is_file()} <= {
        "en",
        "zh",
        "assets",
        "index.html",
    }


def test_bad_input_is_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code, out, err = _run(capsys, "site", str(a_file))
    assert code == 2 and out == "" and "is a file, not a folder" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    empty = tmp_path / "no-grammar"
    empty.mkdir()
    code, out, err = _run(capsys, "site", str(tmp_path / "out"), "--grammar", str(empty))
    assert code == 2 and "no ABNF files" in err and str(empty) in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(SystemExit) as done:
        cli_main(["site", str(tmp_path / "out"), "--lang", "fr"])
    assert done.value.code == 2
