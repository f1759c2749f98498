"""Searchable PDFs: each page as it was, with the words read laid over it as invisible text.

A :class:`SearchablePdf` collects pages in order and writes one document. A page of a PDF is copied as
it is (its content streams, images and fonts untouched) and the text layer is added as one more content
stream; a JPEG is embedded as its own bytes (no re-encoding; its EXIF orientation becomes the placement
matrix), a plain PNG as its own compressed pixels; any other picture is embedded losslessly (Flate with
PNG predictors, 1 bit per pixel when the page is pure black and white). So the output is about the
input's size: a PDF gains a few kilobytes of text per page and one shared font of under a kilobyte.

The text layer is made from a :class:`~ocr.result.Result`'s words, whichever engine read them, as
OCRmyPDF's hocrtransform does: each word is drawn in render mode 3 (invisible) with a glyphless font
whose glyphs are all half an em wide, and its text matrix is set so that the word's glyphs fill its box
exactly (horizontal scaling to the box's width, the line's height as font size); a space glyph scaled
to the gap follows each word but the last of its line. Boxes go from the processed image through the
inverse of ``Result.transform`` onto the page as it was, so crops, quarter turns, rescales and deskew
are undone and the text lies on the words of the original picture.

Written with pikepdf (qpdf): it copies pages between documents without decoding them, reads a file's
objects only when they are written, and saves object streams compressed.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import pikepdf
from PIL import Image

from .decode import DEFAULT_DPI, Page, load
from .errors import DamagedFileError, OcrError
from .result import Origin, Result, origin_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Origin", "SearchablePdf", "origin_of", "page_text", "text_layer", "text_pages"]

log = logging.getLogger(__name__)

GLYPH_WIDTH = 0.5  # every glyph of the glyphless font is half an em wide
DESCENT = 0.2  # the font's descent (and 1 - ascent), in ems: a glyph cell is one font size tall

#: A TrueType font with two empty glyphs, advance 500 of 1000, ascent 800, descent -200; made by
#: scripts/make_glyphless_font.py. Invisible text draws nothing, but a PDF should embed the font it names.
GLYPHLESS_TTF = base64.b64decode(
    "AAEAAAAKAIAAAwAgT1MvMkTfQ5AAAAEoAAAAYGNtYXAADABGAAABkAAAACxnbHlmAAAAAAAAAcQAAAABaGVhZC1wHSoAAACsAAAA"
    "NmhoZWEDIgEuAAAA5AAAACRobXR4AfQAAAAAAYgAAAAGbG9jYQAAAAAAAAG8AAAABm1heHAAAwACAAABCAAAACBuYW1lqWij/wAA"
    "AcgAAABmcG9zdJ5/ds8AAAIwAAAALQABAAAAAQAAJt+jOV8PPPUAAwPoAAAAAOcs7iUAAAAA5yzuJQAAAAAAAAAAAAAAAwACAAAA"
    "AAAAAAEAAAMg/zgAAAH0AAAAAAAAAAEAAAAAAAAAAAAAAAAAAAABAAEAAAACAAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAAAAwH0"
    "AZAABQAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPz8/PwAAAAAAAAMg/zgAAAMgAMgA"
    "AAAAAAAAAAAAAAAAAAAgAAAB9AAAAAAAAAAAAAIAAAADAAAAFAADAAEAAAAUAAQAGAAAAAIAAgAAAAD//wAA//8AAQAAAAAAAAAA"
    "AAAAAAAAAAAABAA2AAEAAAAAAAEACQAAAAEAAAAAAAIABwAJAAMAAQQJAAEAEgAQAAMAAQQJAAIADgAiR2x5cGhMZXNzUmVndWxh"
    "cgBHAGwAeQBwAGgATABlAHMAcwBSAGUAZwB1AGwAYQByAAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAACAAABAgZn"
    "bHlwaDEAAAA="
)


# -- the text layer ----------------------------------------------------------------------------------


def text_layer(words: pd.DataFrame, to_page: np.ndarray, font: str = "/OcrText") -> bytes:
    """The content stream that draws ``words`` (rows with text, left, top, width, height, block, par,
    line in the pixels of the image read) as invisible text; ``to_page`` (3x3) takes those pixels to
    PDF user space. Each line's words share its top and bottom; each word fills its box."""
    ops: list[str] = []
    rows = words[words["text"].astype(str).str.strip() != ""]
    if rows.empty:
        return b""
    ops.append(f"BT 3 Tr {font} 1 Tf")
    for _, line in rows.groupby(["block", "par", "line"], sort=False):
        top = float(line["top"].min())
        bottom = float((line["top"] + line["height"]).max())
        height = bottom - top
        if height <= 0:
            continue
        baseline = bottom - DESCENT * height
        lefts = line["left"].to_numpy(dtype=float)
        rights = lefts + line["width"].to_numpy(dtype=float)
        texts = [_encodable(str(t).strip()) for t in line["text"]]
        for i, text in enumerate(texts):
            ops.extend(_word(text, lefts[i], rights[i], baseline, height, to_page,
                             lefts[i + 1] if i + 1 < len(texts) else None))
    ops.append("ET")
    return ("\n".join(ops) + "\n").encode("ascii")


def _word(text: str, left: float, right: float, baseline: float, height: float, to_page: np.ndarray,
          next_left: float | None) -> list[str]:
    """The operators for one word (and the space after it, stretched to ``next_left``)."""
    if right <= left or not text:
        return []
    origin = _apply(to_page, left, baseline)
    along = _apply(to_page, right, baseline) - origin  # the word's width on the page
    up = _apply(to_page, left, baseline - height) - origin  # the line's height on the page
    length = float(np.hypot(*along))
    if length <= 0 or float(np.hypot(*up)) <= 0:
        return []
    unit = along / (GLYPH_WIDTH * len(text))  # text space's x unit: n glyphs span the box
    ops = [f"{_n(unit[0])} {_n(unit[1])} {_n(up[0])} {_n(up[1])} {_n(origin[0])} {_n(origin[1])} Tm",
           f"<{_hex(text)}> Tj"]
    if next_left is not None:
        gap = (next_left - right) * length / (right - left)  # in points, along the line
        scale = 100 * max(gap, 0.01 * length) / (GLYPH_WIDTH * float(np.hypot(*unit)))
        ops.append(f"{_n(scale)} Tz <0020> Tj 100 Tz")
    return ops


def _apply(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    p = matrix @ np.array([x, y, 1.0])
    return np.asarray(p[:2] / p[2])


def _n(value: float) -> str:
    """A number as PDF writes it: short, no exponent."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _encodable(text: str) -> str:
    """The text with characters outside the Basic Multilingual Plane as U+FFFD: one glyph is one
    UTF-16 code unit in the font's encoding."""
    return "".join(c if ord(c) <= 0xFFFF and not 0xD800 <= ord(c) <= 0xDFFF else "\ufffd" for c in text)


def _hex(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


def pixels_to_page(result: Result, to_user: np.ndarray) -> np.ndarray:
    """The 3x3 matrix from the pixels of the image read to PDF user space, given ``to_user``, the matrix
    from the original page's pixels to user space."""
    return np.asarray(to_user @ np.linalg.inv(result.transform))


def placed(result: Result, to_user: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The words and the matrix that lays them on the page: the words as read, through the inverse of
    the pipeline's matrix (a deskewed word stays slanted with its line); after a curl was flattened,
    which no matrix undoes, each word's box mapped back onto the page."""
    if result.bend is not None:
        return result.page_words(), np.asarray(to_user)
    return result.words, pixels_to_page(result, to_user)


def image_placement(size_px: tuple[int, int], dpi: float) -> tuple[np.ndarray, tuple[float, float]]:
    """For a picture of ``size_px`` pixels at ``dpi``: the matrix from its pixels (y down) to PDF user
    space (points, y up) and the page size in points."""
    s = 72.0 / dpi
    w, h = size_px[0] * s, size_px[1] * s
    return np.array([[s, 0.0, 0.0], [0.0, -s, h], [0.0, 0.0, 1.0]]), (w, h)


def view_to_user(box: Sequence[float], rotate: int) -> np.ndarray:
    """The matrix from a PDF page as shown (points from its top-left corner, y down, after its
    ``/Rotate`` and within ``box``, the crop box) to its user space (y up)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    rotate %= 360
    if rotate == 90:  # shown turned clockwise: the user space's left edge is the top
        return np.array([[0.0, 1.0, x0], [1.0, 0.0, y0], [0.0, 0.0, 1.0]])
    if rotate == 180:
        return np.array([[-1.0, 0.0, x1], [0.0, 1.0, y0], [0.0, 0.0, 1.0]])
    if rotate == 270:
        return np.array([[0.0, -1.0, x1], [-1.0, 0.0, y1], [0.0, 0.0, 1.0]])
    return np.array([[1.0, 0.0, x0], [0.0, -1.0, y1], [0.0, 0.0, 1.0]])


# -- EXIF orientation --------------------------------------------------------------------------------


def exif_upright(orientation: int, w: int, h: int) -> np.ndarray:
    """Where a pixel of a stored picture (``w`` x ``h``) lands once turned upright by its EXIF
    ``orientation`` (1-8, as Pillow's ``exif_transpose``)."""
    table = {
        2: [[-1, 0, w], [0, 1, 0]],
        3: [[-1, 0, w], [0, -1, h]],
        4: [[1, 0, 0], [0, -1, h]],
        5: [[0, 1, 0], [1, 0, 0]],
        6: [[0, -1, h], [1, 0, 0]],
        7: [[0, -1, h], [-1, 0, w]],
        8: [[0, 1, 0], [-1, 0, w]],
    }
    rows = table.get(orientation, [[1, 0, 0], [0, 1, 0]])
    return np.array([*rows, [0, 0, 1]], dtype=float)


# -- images ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """A picture ready to embed: its stream's bytes and dictionary, its size in pixels as stored, and
    the matrix from stored pixels to the upright page's pixels."""

    data: bytes
    info: dict[str, Any]
    size: tuple[int, int]
    upright: np.ndarray


def jpeg_picture(data: bytes) -> Picture | None:
    """A JPEG's own bytes as a DCT-encoded picture, or None when it is not a plain 8-bit JPEG."""
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as im:
            mode, size = im.mode, im.size
            adobe = "adobe" in im.info
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            frames = int(getattr(im, "n_frames", 1) or 1)
    except Exception:  # Pillow raises anything on an unusual JPEG: it is embedded from its pixels instead
        log.debug("JPEG not embedded as it is", exc_info=True)
        return None
    spaces = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}
    if mode not in spaces or frames != 1:
        return None
    info: dict[str, Any] = {"/Filter": pikepdf.Name.DCTDecode, "/ColorSpace": pikepdf.Name(spaces[mode])}
    if mode == "CMYK" and adobe:  # Adobe's CMYK JPEGs store inverted values
        info["/Decode"] = pikepdf.Array([1, 0] * 4)
    w, h = size
    return Picture(data, info, size, exif_upright(orientation if 1 <= orientation <= 8 else 1, w, h))


def png_picture(data: bytes) -> Picture | None:
    """A PNG's own compressed pixels (its IDAT data, with PNG predictors) when PDF can take them as they
    are: gray or RGB, 8 bits (gray also 1, 2 or 4), not interlaced, no transparency, no EXIF turn; else None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    w, h = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    depth, color, interlace = data[24], data[25], data[28]
    kinds = {chunk[4:8] for chunk in _png_chunk_heads(data)}
    if interlace or color not in (0, 2) or (color == 2 and depth != 8) or depth == 16 or kinds & {b"tRNS", b"eXIf"}:
        return None
    info: dict[str, Any] = {
        "/Filter": pikepdf.Name.FlateDecode,
        "/DecodeParms": pikepdf.Dictionary(Predictor=15, Colors=1 if color == 0 else 3, BitsPerComponent=depth,
                                           Columns=w),
        "/ColorSpace": pikepdf.Name.DeviceGray if color == 0 else pikepdf.Name.DeviceRGB,
        "/BitsPerComponent": depth,
    }
    return Picture(b"".join(_png_chunks(data, b"IDAT")), info, (w, h), np.eye(3))


def _png_chunk_heads(png: bytes) -> Iterator[bytes]:
    """Each chunk's length and type (8 bytes) in a PNG file."""
    pos = 8
    while pos + 8 <= len(png):
        yield png[pos:pos + 8]
        pos += 12 + int.from_bytes(png[pos:pos + 4], "big")


def lossless_picture(pixels: np.ndarray) -> Picture:
    """Pixels (uint8 gray or RGB) as a Flate-compressed picture with PNG predictors; a gray page of only
    black and white at one bit per pixel."""
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    gray = pixels.ndim == 2
    bilevel = gray and bool(np.all((pixels == 0) | (pixels == 255)))
    im = Image.fromarray(pixels, "L" if gray else "RGB")
    if bilevel:
        im = im.convert("1", dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    im.save(buffer, "PNG", compress_level=6)
    colors, bits = (1, 1) if bilevel else (1, 8) if gray else (3, 8)
    info: dict[str, Any] = {
        "/Filter": pikepdf.Name.FlateDecode,
        "/DecodeParms": pikepdf.Dictionary(Predictor=15, Colors=colors, BitsPerComponent=bits, Columns=w),
        "/ColorSpace": pikepdf.Name.DeviceGray if gray else pikepdf.Name.DeviceRGB,
        "/BitsPerComponent": bits,
    }
    return Picture(b"".join(_png_chunks(buffer.getvalue(), b"IDAT")), info, (w, h), np.eye(3))


def _png_chunks(png: bytes, kind: bytes) -> Iterator[bytes]:
    """The data of every chunk of ``kind`` in a PNG file."""
    pos = 8
    while pos + 8 <= len(png):
        length = int.from_bytes(png[pos:pos + 4], "big")
        if png[pos + 4:pos + 8] == kind:
            yield png[pos + 8:pos + 8 + length]
        pos += 12 + length


# -- the document --------------------------------------------------------------------------------------


class SearchablePdf:
    """One searchable PDF, written page by page: ``add(origin, result)`` in order, then ``save(target)``.

    Pages of a PDF are copied from their file, which stays open (and is read) only until ``save``; a
    picture's bytes are kept compressed, never its decoded pixels. Use as a context manager, or call
    :meth:`close`.
    """

    def __init__(self) -> None:
        self.pdf = pikepdf.new()
        self._font: pikepdf.Object | None = None
        self._sources: dict[object, pikepdf.Pdf] = {}
        self._pages: list[Page] = []
        self._pages_of: object = None
        self.pages = 0

    def __enter__(self) -> SearchablePdf:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, origin: Origin, result: Result | None) -> None:
        """Add the page ``origin`` names, with ``result``'s words over it (None: the page alone)."""
        if origin.kind == "PDF" and origin.page is None:
            self._add_pdf_page(origin, result)
        else:
            self._add_picture_page(origin, result)
        self.pages += 1

    def save(self, target: str | os.PathLike[str] | BinaryIO) -> None:
        """Write the document: object streams compressed, every stream as it is (the originals' as they
        were, ours compressed when made)."""
        if not self.pages:
            raise OcrError("there is no page to write.")
        where = os.fspath(target) if isinstance(target, os.PathLike) else target
        self.pdf.save(where, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                      recompress_flate=False)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.save(out)
        return out.getvalue()

    def close(self) -> None:
        self.pdf.close()
        for source in self._sources.values():
            source.close()
        self._sources.clear()

    # inside ------------------------------------------------------------------------------------------

    def _source(self, origin: Origin) -> pikepdf.Pdf:
        found = self._sources.get(origin.key)
        if found is None:
            try:
                if origin.path is not None:
                    found = pikepdf.open(origin.path)
                else:
                    found = pikepdf.open(io.BytesIO(origin.read()))
            except (pikepdf.PdfError, pikepdf.PasswordError, OSError) as e:
                raise DamagedFileError(f"the PDF cannot be opened to add its text layer ({e}).") from None
            self._sources[origin.key] = found
        return found

    def _add_pdf_page(self, origin: Origin, result: Result | None) -> None:
        source = self._source(origin)
        self.pdf.pages.append(source.pages[origin.index])
        page = self.pdf.pages[-1]
        if result is None or result.words.empty:
            return
        drop_invisible_text(self.pdf, page)  # a page read again (--redo): an earlier OCR layer gives way to ours
        box = _inherited(page.obj, "/CropBox") or _inherited(page.obj, "/MediaBox") or [0, 0, 612, 792]
        rotate = int(_inherited(page.obj, "/Rotate") or 0)
        dpi = origin.dpi or DEFAULT_DPI
        to_user = view_to_user([float(v) for v in box], rotate) @ np.diag([72.0 / dpi, 72.0 / dpi, 1.0])
        name = page.add_resource(self._font_object(), pikepdf.Name.Font, prefix="OcrText")
        layer = text_layer(*placed(result, to_user), str(name))
        if layer:
            # the page's own streams are wrapped in q/Q so their graphics state cannot leak into the layer
            page.contents_add(pikepdf.Stream(self.pdf, b"q\n"), prepend=True)
            page.contents_add(_flate(self.pdf, b"\nQ\n" + layer))

    def _add_picture_page(self, origin: Origin, result: Result | None) -> None:
        picture = None
        if origin.count == 1 and origin.page is None and origin.kind in ("JPEG", "PNG"):
            data = origin.read()
            picture = jpeg_picture(data) if origin.kind == "JPEG" else png_picture(data)
        if picture is None:
            picture = lossless_picture(self._pixels(origin))
        upright_size = _upright_size(picture)
        to_user, (w_pt, h_pt) = image_placement(upright_size, origin.dpi or DEFAULT_DPI)
        image = pikepdf.Stream(self.pdf, picture.data)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height = picture.size
        image.BitsPerComponent = picture.info.get("/BitsPerComponent", 8)
        for key, value in picture.info.items():
            if key != "/BitsPerComponent":
                image[key] = value
        # the image's unit square -> stored pixels (y down from the top row) -> upright pixels -> user space
        w, h = picture.size
        unit_to_stored = np.array([[w, 0.0, 0.0], [0.0, -h, h], [0.0, 0.0, 1.0]])
        place = to_user @ picture.upright @ unit_to_stored
        ops = [b"q", " ".join(_n(v) for v in _pdf_matrix(place)).encode() + b" cm", b"/Scan Do", b"Q"]
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Scan=image))
        if result is not None and not result.words.empty:
            resources.Font = pikepdf.Dictionary(OcrText=self._font_object())
            ops.append(text_layer(*placed(result, to_user), "/OcrText").rstrip(b"\n"))
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, round(w_pt, 3), round(h_pt, 3)], Resources=resources,
            Contents=_flate(self.pdf, b"\n".join(ops) + b"\n"),
        )
        self.pdf.pages.append(pikepdf.Page(page))

    def _pixels(self, origin: Origin) -> np.ndarray:
        """The page's pixels; the pages of the file last opened are kept (undecoded) for its next page."""
        if origin.page is not None:
            return origin.page.image
        if self._pages_of != origin.key:
            self._pages = load(origin.read(), "page", pdf_dpi=round(origin.dpi or DEFAULT_DPI))
            self._pages_of = origin.key
        page = self._pages[origin.index]
        with page.pixels() as pixels:
            return pixels

    def _font_object(self) -> pikepdf.Object:
        """The glyphless Type 0 font (Identity-H, UTF-16 code units as CIDs), made once per document."""
        if self._font is None:
            pdf = self.pdf
            font_file = _flate(pdf, GLYPHLESS_TTF)
            font_file.Length1 = len(GLYPHLESS_TTF)
            descriptor = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name.GlyphLess, Flags=5,
                FontBBox=[0, -200, 500, 800], ItalicAngle=0, Ascent=800, Descent=-200, CapHeight=800,
                StemV=80, FontFile2=font_file,
            ))
            gid_map = pikepdf.Stream(pdf, zlib.compress(b"\x00\x01" * 65536, 9))
            gid_map.Filter = pikepdf.Name.FlateDecode
            cid_font = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name.GlyphLess,
                CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"),
                                                 Ordering=pikepdf.String("Identity"), Supplement=0),
                FontDescriptor=descriptor, DW=int(GLYPH_WIDTH * 1000), CIDToGIDMap=gid_map,
            ))
            self._font = pdf.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name.GlyphLess,
                Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[cid_font],
                ToUnicode=_flate(pdf, _to_unicode()),
            ))
        return self._font


_SHOW_TEXT = {"Tj", "TJ", "'", '"'}


def drop_invisible_text(pdf: pikepdf.Pdf, page: pikepdf.Page) -> bool:
    """Remove text drawn invisibly (render mode 3: an earlier OCR layer) from a page's content and from
    the forms it draws; visible text and everything else stay. A stream with no invisible text is left
    byte for byte as it was. Returns whether anything was removed."""
    removed = _strip_stream(pdf, page)
    resources = page.obj.get("/Resources")
    forms = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(forms, pikepdf.Dictionary):
        return removed
    for name in list(forms.keys()):
        form = forms[name]
        if isinstance(form, pikepdf.Stream) and form.get("/Subtype") == pikepdf.Name.Form:
            removed = _strip_stream(pdf, form) or removed
    return removed


def _strip_stream(pdf: pikepdf.Pdf, target: pikepdf.Page | pikepdf.Stream) -> bool:
    """Drop the text-showing operators run in render mode 3 from one content stream (or a page's)."""
    try:
        instructions = pikepdf.parse_content_stream(target)
    except pikepdf.PdfError:
        return False  # a stream we cannot parse is left as it is
    kept: list[Any] = []
    modes: list[int] = []
    mode, dropped = 0, False
    for instruction in instructions:
        op = str(getattr(instruction, "operator", ""))
        if op == "q":
            modes.append(mode)
        elif op == "Q" and modes:
            mode = modes.pop()
        elif op == "Tr":
            mode = int(instruction.operands[0])
        elif op in _SHOW_TEXT and mode == 3:
            dropped = True
            continue
        kept.append(instruction)
    if not dropped:
        return False
    data = pikepdf.unparse_content_stream(kept)
    if isinstance(target, pikepdf.Page):
        target.obj.Contents = _flate(pdf, data)
    else:
        target.write(zlib.compress(data, 6), filter=pikepdf.Name.FlateDecode)
    return True


def _flate(pdf: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    """A stream of ``data``, compressed."""
    stream = pikepdf.Stream(pdf, zlib.compress(data, 6))
    stream.Filter = pikepdf.Name.FlateDecode
    return stream


def _upright_size(picture: Picture) -> tuple[int, int]:
    """The picture's size once upright: sides swapped by a quarter turn."""
    w, h = picture.size
    return (h, w) if picture.upright[0, 0] == 0 else (w, h)


def _pdf_matrix(m: np.ndarray) -> list[float]:
    """A 3x3 affine matrix as PDF's six numbers [a b c d e f]."""
    return [float(m[0, 0]), float(m[1, 0]), float(m[0, 1]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2])]


def _inherited(obj: pikepdf.Object, key: str) -> Any:
    """A page attribute, looked up the page tree as PDF's inheritance says."""
    node: Any = obj
    for _ in range(64):
        if node is None:
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _to_unicode() -> bytes:
    """A ToUnicode CMap mapping each two-byte code to the same UTF-16 code unit (surrogates left out)."""
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start:start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMapType get defineresource pop\nend\nend\n"
    ).encode("ascii")


# -- existing text -------------------------------------------------------------------------------------


def text_pages(data: bytes | str) -> list[bool]:
    """For each page of a PDF (its bytes or its path), whether it already has text (PDFium finds
    characters on it)."""
    import pypdfium2 as pdfium

    from .decode import _PDFIUM_LOCK

    found = []
    with _PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return []
        try:
            for index in range(len(doc)):
                page = doc[index]
                textpage = page.get_textpage()
                found.append(textpage.count_chars() > 0)
                textpage.close()
                page.close()
        finally:
            doc.close()
    return found


def page_text(data: bytes | str, index: int) -> str:
    """The text PDFium finds on one page of a PDF (its bytes or its path)."""
    import pypdfium2 as pdfium

    from .decode import _PDFIUM_LOCK

    with _PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            page = doc[index]
            textpage = page.get_textpage()
            text = str(textpage.get_text_range())
            textpage.close()
            page.close()
        finally:
            doc.close()
    return text.replace("\r\n", "\n")
