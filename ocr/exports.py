"""Exports, every one made from :class:`~ocr.result.Result` objects, whichever engine read them: text, JSON,
CSV of words, hOCR (made from the words), a searchable PDF (the page as it was with the words as an
invisible text layer, see :mod:`ocr.pdf`), and a zip of them all.

``export(result, fmt)`` takes one result or a list (the pages of a file, or a batch) and returns bytes.
``stream(fmt, results, many=...)`` gives the same bytes in pieces, one per page, for a batch that writes
each page as it is read and lets it go.
"""

from __future__ import annotations

import difflib
import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import OcrError
from .result import Origin, Result

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("txt", "json", "csv", "hocr", "pdf")
MIME = {
    "txt": "text/plain",
    "json": "application/json",
    "csv": "text/csv",
    "hocr": "text/html",
    "pdf": "application/pdf",
    "zip": "application/zip",
}

Head = Callable[[bool], bytes]
Piece = Callable[[Result, int, bool], bytes]

_HOCR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>{title}</title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='ocr-workbench' />
  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>
 </head>
 <body>
"""
_HOCR_TAIL = """ </body>
</html>
"""


def _many(results: Result | Sequence[Result]) -> list[Result]:
    return [results] if isinstance(results, Result) else list(results)


def export(results: Result | Sequence[Result], fmt: str) -> bytes:
    """One result, or several as one document, in ``fmt`` (one of :data:`FORMATS`, or ``"zip"``)."""
    fmt = fmt.lower().lstrip(".")
    pages = _many(results)
    if fmt == "zip":
        return export_zip(pages)
    if fmt not in FORMATS:
        raise OcrError(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)}, zip).")
    if not pages:
        raise OcrError("there is nothing to export yet.")
    if fmt == "pdf":
        return to_pdf(pages)
    return b"".join(stream(fmt, pages, many=len(pages) > 1))


def stream(fmt: str, results: Iterable[Result], *, many: bool) -> Iterator[bytes]:
    """``fmt`` (txt, json, csv or hocr) in pieces: a head, one piece per result as it comes, a tail.
    ``many`` says whether the document holds several pages (known before the first is read); the
    pieces joined are what :func:`export` makes of the same results."""
    head, piece, tail = pieces(fmt)
    yield head(many)
    for number, result in enumerate(results, start=1):
        yield piece(result, number, many)
    yield tail(many)


def pieces(fmt: str) -> tuple[Head, Piece, Head]:
    """The three writers of a document in ``fmt`` (txt, json, csv or hocr): ``head(many)``,
    ``piece(result, number, many)`` for each page (numbered from 1), ``tail(many)``."""
    if fmt not in _PIECES:
        raise OcrError(f"{fmt} cannot be written page by page (one of: {', '.join(_PIECES)}).")
    return _PIECES[fmt]


def to_text(pages: list[Result]) -> bytes:
    return export(pages, "txt")


def _text_piece(r: Result, number: int, many: bool) -> bytes:
    if not many:
        return r.text.encode("utf-8")
    return (("\n" if number > 1 else "") + f"==> {r.name} <==\n{r.text.rstrip()}\n").encode("utf-8")


def to_record(r: Result) -> dict[str, Any]:
    return {
        "name": r.name,
        "text": r.text,
        "mean_conf": r.mean_conf,
        "word_count": r.word_count,
        "words": r.words.to_dict(orient="records"),
        "settings": r.settings.to_dict() if r.settings else None,
        "options": r.options.to_dict(),
        "dpi": r.dpi,
        "size": list(r.size),
        "timings": r.timings,
        "warnings": r.warnings,
        "engine": r.engine,
        "score": r.score,
        "backend": r.backend,
    }


def to_json(pages: list[Result]) -> bytes:
    return export(pages, "json")


def _json_piece(r: Result, number: int, many: bool) -> bytes:
    """One page's record; in a document of several, indented as ``json.dumps({"pages": [...]}, indent=2)``."""
    text = json.dumps(to_record(r), indent=2, ensure_ascii=False)
    if not many:
        return (text + "\n").encode("utf-8")
    return ((",\n" if number > 1 else "") + "\n".join("    " + line for line in text.splitlines())).encode("utf-8")


def to_csv(pages: list[Result]) -> bytes:
    return export(pages, "csv")


def _csv_piece(r: Result, number: int, many: bool) -> bytes:
    table = r.words.assign(page=r.name)
    columns = ["page"] + [c for c in table.columns if c != "page"]
    return str(table[columns].to_csv(index=False, header=number == 1)).encode("utf-8")


def to_hocr(pages: list[Result]) -> bytes:
    """One hOCR document: each page's ``ocr_page`` made from its words, on the page as it was (the
    original picture's pixels: what a text layer over it needs)."""
    return export(pages, "hocr")


def _hocr_head(many: bool) -> bytes:
    return _HOCR_HEAD.format(title="").encode("utf-8")


def _hocr_piece(r: Result, number: int, many: bool) -> bytes:
    return hocr_page(r, number).encode("utf-8")


def hocr_page(r: Result, number: int = 1) -> str:
    """One ``ocr_page`` div: blocks (``ocr_carea``), paragraphs, lines and words with their boxes (on the
    original page) and confidences, ids numbered by page so several pages stay unique."""
    words = r.page_words()
    width, height = r.source_size if r.source_size != (0, 0) else r.size
    dpi = round(r.origin.dpi if r.origin is not None and r.origin.dpi else r.dpi)  # the original page's
    lines = [f"  <div class='ocr_page' id='page_{number}' title='image \"{_xml_escape(r.name)}\"; "
             f"bbox 0 0 {width} {height}; ppageno {number - 1}; scan_res {dpi} {dpi}; "
             f"x_source_engine {_xml_escape(r.engine)}'>"]
    rows = words[words["text"].astype(str).str.strip() != ""]
    counters = {"block": 0, "par": 0, "line": 0, "word": 0}

    def ident(kind: str) -> str:
        counters[kind] += 1
        return f"{kind}_{number}_{counters[kind]}"

    for _, block in rows.groupby("block", sort=False):
        lines.append(f"   <div class='ocr_carea' id='{ident('block')}' title='{_bbox(block)}'>")
        for _, par in block.groupby("par", sort=False):
            lines.append(f"    <p class='ocr_par' id='{ident('par')}' title='{_bbox(par)}'>")
            for _, line in par.groupby("line", sort=False):
                lines.append(f"     <span class='ocr_line' id='{ident('line')}' title='{_bbox(line)}'>")
                for word in line.to_dict("records"):
                    conf = max(0, round(float(word["conf"])))
                    lines.append(f"      <span class='ocrx_word' id='{ident('word')}' title='{_bbox(word)}; "
                                 f"x_wconf {conf}'>{_xml_escape(str(word['text']))}</span>")
                lines.append("     </span>")
            lines.append("    </p>")
        lines.append("   </div>")
    lines.append("  </div>")
    return "\n".join(lines) + "\n"


def _bbox(rows: pd.DataFrame | dict[Any, Any]) -> str:
    """hOCR's ``bbox x0 y0 x1 y1`` around a word (a record) or the words of a table."""
    left, top = np.min(rows["left"]), np.min(rows["top"])
    right, bottom = np.max(np.add(rows["left"], rows["width"])), np.max(np.add(rows["top"], rows["height"]))
    return f"bbox {round(float(left))} {round(float(top))} {round(float(right))} {round(float(bottom))}"


def to_pdf(pages: list[Result]) -> bytes:
    """One searchable PDF of these pages: each page as it was (see :mod:`ocr.pdf`), its words over it."""
    missing = [r.name or "page" for r in pages if r.origin is None]
    if missing:
        raise OcrError(f"{missing[0]} has no original page to lay its text over; read it from its file "
                       "(ocr.read_page or ocr.read_files) to make a PDF.")
    return document_pdf([(r.origin, r) for r in pages if r.origin is not None])


def document_pdf(pages: Sequence[tuple[Origin, Result | None]]) -> bytes:
    """One searchable PDF of these pages in this order: each page as it was, with its result's words over
    it, or alone where it has no result (a page not read yet keeps its place in the document)."""
    from .pdf import SearchablePdf

    if not pages:
        raise OcrError("there is nothing to export yet.")
    with SearchablePdf() as document:
        for origin, r in pages:
            document.add(origin, r)
        return document.to_bytes()


def document_text(texts: Sequence[str]) -> bytes:
    """The pages' texts as one text, a form feed between pages (as pdftotext writes a document), so a
    page's text stays on its page however many lines it has."""
    return "\f".join(t.rstrip("\n") + "\n" for t in texts).encode("utf-8")


def with_text(r: Result, text: str) -> Result:
    """``r`` with ``text`` (the person's edits of its text) as its text and in its words, so a text layer
    made from the words carries the edits: the edited words are matched to the words read (difflib, word
    by word); a word changed takes the box of the word it replaces, several changed words share the boxes
    of the ones they replace, a word added joins the box before it, a word deleted leaves its box empty.
    Unchanged text gives ``r`` itself."""
    if text == r.text:
        return r
    words = r.words.reset_index(drop=True)
    old = [str(t).strip() for t in words["text"]]
    new = text.split()
    placed = list(old)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal":
            continue
        if i1 > i0:  # replaced or deleted: the new words spread over these boxes, in order
            chunk, n = new[j0:j1], i1 - i0
            for k in range(n):
                placed[i0 + k] = " ".join(chunk[k * len(chunk) // n:(k + 1) * len(chunk) // n])
        elif old:  # inserted: into the box before (or the first box, at the very start)
            at = max(i0 - 1, 0)
            added = " ".join(new[j0:j1])
            placed[at] = f"{placed[at]} {added}".strip() if i0 > 0 else f"{added} {placed[at]}".strip()
    out = words.copy()
    out["text"] = placed
    return replace(r, text=text, words=out)


def _nothing(many: bool) -> bytes:
    return b""


def _json_head(many: bool) -> bytes:
    return b'{\n  "pages": [\n' if many else b""


def _json_tail(many: bool) -> bytes:
    return b"\n  ]\n}\n" if many else b""


def _hocr_tail(many: bool) -> bytes:
    return _HOCR_TAIL.encode("utf-8")


_PIECES: dict[str, tuple[Head, Piece, Head]] = {
    "txt": (_nothing, _text_piece, _nothing),
    "json": (_json_head, _json_piece, _json_tail),
    "csv": (_nothing, _csv_piece, _nothing),
    "hocr": (_hocr_head, _hocr_piece, _hocr_tail),
}
_WRITERS = {"txt": to_text, "json": to_json, "csv": to_csv, "hocr": to_hocr, "pdf": to_pdf}


def safe_name(name: str) -> str:
    """A file name safe in a zip or a folder: no folders, no dot-dot, no odd characters."""
    name = re.sub(r"[^\w.+-]+", "_", name.replace("#", "-p")).strip("._") or "page"
    return name[:120]


def file_stem(name: str) -> str:
    """A file's name without its extension, safe in a zip or a folder: ``ten_pages.pdf`` -> ``ten_pages``."""
    return safe_name(PurePosixPath(name.replace("\\", "/")).stem or name)


def stem_of(r: Result) -> str:
    """The name a page's downloads share, without extension: the file's name without its extension, and
    for a page of a longer file ``-p`` and its number, zero-padded to the file's page count so that
    names sort in page order (``ten_pages-p01`` ... ``ten_pages-p10``; ``scan.png`` -> ``scan``)."""
    found = re.fullmatch(r"(.*)#(\d+)", r.name, flags=re.DOTALL)
    if found is None:
        return file_stem(r.name) if r.name else "page"
    number = int(found.group(2))
    return page_stem(found.group(1), number - 1, max(r.origin.count if r.origin is not None else number, number))


def page_stem(source: str, index: int, count: int) -> str:
    """The name of page ``index`` (0-based) of a file of ``count`` pages called ``source``, without
    extension: the file's stem alone for a file of one page, else ``-p`` and the page number padded to
    the page count's width (``ten_pages-p01``), so that names sort as the pages go."""
    if count <= 1:
        return file_stem(source)
    return f"{file_stem(source)}-p{index + 1:0{len(str(count))}d}"


def download_name(stem: str, fmt: str) -> str:
    """A download's file name: ``stem`` and the format's extension; a searchable PDF is ``.ocr.pdf``, so
    it never takes the name of the PDF it was made from (``letter.pdf`` -> ``letter.ocr.pdf``)."""
    return f"{stem}.ocr.pdf" if fmt == "pdf" else f"{stem}.{fmt}"


def export_zip(results: Iterable[Result], formats: Sequence[str] = FORMATS) -> bytes:
    """Every result in every format (the PDF where its original page is known), in the order given, each
    named as :func:`stem_of` names it; plus ``all.txt`` (every page's text) when there are several."""
    pages = list(results)
    if not pages:
        raise OcrError("there is nothing to export yet.")
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for r in pages:
            stem = base = stem_of(r)
            n = 2
            while stem in used:
                stem, n = f"{base}-{n}", n + 1
            used.add(stem)
            for fmt in formats:
                if fmt == "pdf" and r.origin is None:
                    continue
                archive.writestr(download_name(stem, fmt), _WRITERS[fmt]([r]))
        if len(pages) > 1:
            archive.writestr("all.txt", to_text(pages))
    return buffer.getvalue()


def _xml_escape(text: str) -> str:
    return html.escape(text, quote=True)
