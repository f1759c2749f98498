"""Exports, every one made from :class:`~ocr.result.Result` objects: text, JSON, CSV of words, hOCR and
searchable PDF (Tesseract's own renderers), and a zip of them all.

``export(result, fmt)`` takes one result or a list (the pages of a file, or a batch) and returns bytes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .errors import OcrError
from .result import Result

FORMATS = ("txt", "json", "csv", "hocr", "pdf")
MIME = {
    "txt": "text/plain",
    "json": "application/json",
    "csv": "text/csv",
    "hocr": "text/html",
    "pdf": "application/pdf",
    "zip": "application/zip",
}

_HOCR_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>{title}</title>
  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
  <meta name='ocr-system' content='tesseract' />
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
    return _WRITERS[fmt](pages)


def to_text(pages: list[Result]) -> bytes:
    if len(pages) == 1:
        return pages[0].text.encode("utf-8")
    return "\n".join(f"==> {r.name} <==\n{r.text.rstrip()}\n" for r in pages).encode("utf-8")


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
        "backend": r.backend,
    }


def to_json(pages: list[Result]) -> bytes:
    data = to_record(pages[0]) if len(pages) == 1 else {"pages": [to_record(r) for r in pages]}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def to_csv(pages: list[Result]) -> bytes:
    tables = [r.words.assign(page=r.name) for r in pages]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    columns = ["page"] + [c for c in table.columns if c != "page"]
    return table[columns].to_csv(index=False).encode("utf-8")


_PAGE_IDS = re.compile(r"(id='(?:page|block|par|line|word)_)1(['_])")


def to_hocr(pages: list[Result]) -> bytes:
    """One hOCR document holding every page's ``ocr_page`` from Tesseract's hOCR renderer."""
    missing = [r.name or "page" for r in pages if not r.hocr]
    if missing:
        raise OcrError(f"{missing[0]} was read without hOCR output; read it again with hOCR asked for.")
    body = []
    for number, r in enumerate(pages, start=1):
        page = _PAGE_IDS.sub(rf"\g<1>{number}\g<2>", r.hocr)
        page = page.replace("ppageno 0", f"ppageno {number - 1}")
        body.append(page.rstrip("\n") + "\n")
    title = _xml_escape(pages[0].name if len(pages) == 1 else "")
    return (_HOCR_HEAD.format(title=title) + "".join(body) + _HOCR_TAIL).encode("utf-8")


def to_pdf(pages: list[Result]) -> bytes:
    """Tesseract's searchable PDF: the page image with an invisible text layer; several pages joined."""
    missing = [r.name or "page" for r in pages if not r.pdf]
    if missing:
        raise OcrError(f"{missing[0]} was read without PDF output; read it again with PDF asked for.")
    if len(pages) == 1 and pages[0].pdf is not None:
        return pages[0].pdf
    import pypdfium2 as pdfium

    from .decode import _PDFIUM_LOCK

    with _PDFIUM_LOCK:
        merged = pdfium.PdfDocument.new()
        try:
            for r in pages:
                merged.import_pages(pdfium.PdfDocument(r.pdf))
            out = io.BytesIO()
            merged.save(out)
            return out.getvalue()
        finally:
            merged.close()


_WRITERS = {"txt": to_text, "json": to_json, "csv": to_csv, "hocr": to_hocr, "pdf": to_pdf}


def safe_name(name: str) -> str:
    """A file name safe in a zip or a folder: no folders, no dot-dot, no odd characters."""
    name = re.sub(r"[^\w.+-]+", "_", name.replace("#", "-p")).strip("._") or "page"
    return name[:120]


def export_zip(results: Iterable[Result], formats: Sequence[str] = FORMATS) -> bytes:
    """Every result in every format it has (hOCR and PDF only where they were made), plus ``all.txt``."""
    pages = list(results)
    if not pages:
        raise OcrError("there is nothing to export yet.")
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for r in pages:
            stem = base = safe_name(r.name)
            n = 2
            while stem in used:
                stem, n = f"{base}-{n}", n + 1
            used.add(stem)
            for fmt in formats:
                if (fmt == "hocr" and not r.hocr) or (fmt == "pdf" and not r.pdf):
                    continue
                archive.writestr(f"{stem}.{fmt}", _WRITERS[fmt]([r]))
        if len(pages) > 1:
            archive.writestr("all.txt", to_text(pages))
    return buffer.getvalue()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
