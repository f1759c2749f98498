"""The whole bad-file corpus (tests/badfiles.py, made at test time) dropped on the app at once: each refused
file is one short line of plain text in one list under one alert (not a box each, never a traceback),
and every good file opens."""

from __future__ import annotations

import hashlib

from workbench import keys, nav

from .badfiles import corpus
from .test_app import go, ok, start, texts, upload, viewers, workspaces  # noqa: F401


def test_the_whole_corpus_through_the_upload():
    files = corpus()
    assert len(files) >= 30
    at = upload(ok(start()), *((name, data) for name, data, _ in files))
    opened = {e.name for e in at.session_state[keys.FILES].values()}
    lines = [line for t in texts(at) for line in t.splitlines()]
    first_of: dict[str, str] = {}
    for name, data, expected in files:
        sha = hashlib.sha256(data).hexdigest()
        said = [line for line in lines if line.startswith(f"{name}: ")]
        if expected.refused or 0 in expected.broken:  # refused whole (its first page is needed to list it)
            assert name not in opened and len(said) == 1, name
            sentence = said[0].removeprefix(f"{name}: ")
            assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence, name
            if expected.refused and sha not in first_of:
                assert all(word.lower() in sentence.lower() for word in expected.words), (name, sentence)
        elif sha in first_of:  # the same bytes under another name: said once, not opened twice
            assert said == [f"{name}: it is already open as {first_of[sha]}."], name
        else:
            assert name in opened and not said, name  # every good file opens, awkward or not
            first_of[sha] = name
        first_of.setdefault(sha, name)
    refused = len([1 for line in lines if any(line.startswith(f"{n}: ") for n, _, _ in files)])
    assert len(at.error) == 1 and at.error[0].value.startswith(f"{refused} files could not be opened.")
    assert not at.exception
    go(at, nav.TUNE)  # the good files' pages show
    assert at.title[0].value == "Tune the clean-up" and viewers(at) == 1
