"""The bad-file corpus through ``ocr.load`` and through the command line: every bad file (or bad page)
gets one ``error: NAME: ...`` line, good files still give their text, no traceback, no warning text."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import ocr
import ocr.cli
from ocr.errors import InputError

from .badfiles import Expected, corpus, gif_bomb, png_header, png_white
from .conftest import ROOT, words_of

CASES = corpus()


def test_the_corpus_has_thirty_kinds_and_says_what_each_gives():
    assert len(CASES) >= 30
    names = [name for name, _, _ in CASES]
    assert len({Path(n).stem for n in names}) == len(names)  # one output file each from the CLI
    assert sum(e.refused for _, _, e in CASES) >= 20 and sum(e.reads for _, _, e in CASES) >= 10


def outcome(data: bytes, name: str) -> tuple[int, dict[int, InputError], InputError | None]:
    """(pages loaded, the error of each page that fails to decode, the error refusing the file)."""
    try:
        pages = ocr.load(data, name)
    except InputError as e:
        return 0, {}, e
    failed = {}
    for page in pages:
        try:
            with page.pixels():
                pass
        except InputError as e:
            failed[page.index] = e
    return len(pages), failed, None


def sentence(text: str, expected: Expected) -> None:
    """One plain sentence holding the words the corpus expects."""
    assert text.endswith(".") and "\n" not in text and "Traceback" not in text, text
    for word in expected.words:
        assert word in text, (word, text)


def says(error: BaseException | None, expected: Expected) -> None:
    assert expected.error is not None and isinstance(error, expected.error), repr(error)
    sentence(str(error), expected)


@pytest.mark.parametrize(("name", "data", "expected"), CASES, ids=[c[0] for c in CASES])
def test_load_gives_what_the_corpus_says(name, data, expected):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        count, failed, refusal = outcome(data, name)
    assert [str(w.message) for w in caught] == []
    if expected.refused:
        says(refusal, expected)
        return
    assert refusal is None, str(refusal)
    assert count == expected.pages
    assert sorted(failed) == list(expected.broken)
    for error in failed.values():
        says(error, expected)


def test_the_command_line_reads_the_corpus_one_line_per_bad_file(tmp_path, capsys):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name, data, _ in CASES:
        (folder / name).write_bytes(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = ocr.cli.main([str(folder / name) for name, _, _ in CASES] + ["-o", str(out), "--jobs", "2"])
    printed = capsys.readouterr()
    assert code == 1
    assert [str(w.message) for w in caught if "PIL" in w.filename or "ocr" in w.filename] == []
    for stream in (printed.out, printed.err):
        assert "Traceback" not in stream and "Warning" not in stream and "DecompressionBomb" not in stream
    lines = printed.err.splitlines()
    assert all(line.startswith(("error: ", "note: ")) for line in lines), lines
    notes = [line for line in lines if line.startswith("note: ")]
    assert len(notes) == len(set(notes))
    assert "note: animated-gif.gif: each of the animation's 3 frames" in "\n".join(notes)
    for name, _, expected in CASES:
        stem = Path(name).stem
        mine = [line.split(": ", 2) for line in lines if line.startswith((f"error: {name}: ", f"error: {name}#"))]
        if expected.refused:
            assert len(mine) == 1, (name, mine)
            sentence(mine[0][2], expected)
            assert not list(out.glob(f"{stem}*"))
            continue
        broken = {name if expected.pages == 1 else f"{name}#{i + 1}" for i in expected.broken}
        assert {page for _, page, _ in mine} == broken and len(mine) == len(broken), (name, mine)
        for _, _, text in mine:
            sentence(text, expected)
        written = sorted(out.glob(f"{stem}.txt")) + sorted(out.glob(f"{stem}-p*.txt"))
        assert len(written) == expected.pages - len(expected.broken), (name, written)
        if expected.text:
            assert expected.text in words_of(" ".join(p.read_text() for p in written)), name


def test_a_bad_file_in_a_real_process_prints_only_our_sentences(tmp_path):
    """Python's warnings reach stderr in a real process (pytest catches them in its own): none may."""
    files = {"big.png": png_header(9500, 9500), "bomb.gif": gif_bomb(8944, 8944, 500),
             "strip.png": png_white(100000, 10), "frames.gif": gif_bomb(10, 10, 600)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "ocr", *(str(tmp_path / n) for n in files)], capture_output=True,
                         text=True, check=False, cwd=ROOT, timeout=300)
    assert run.returncode == 1 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == len(files), run.stderr
    assert sorted(line.split(": ", 2)[1] for line in lines) == sorted(files)
    assert "over the limit of 80 megapixels per page" in run.stderr
    assert "over the limit of 5,000 megapixels per file" in run.stderr
    assert "65,500 pixels on a side" in run.stderr and "more than 500 frames" in run.stderr
