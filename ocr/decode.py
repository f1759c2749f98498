"""Reading files into pages: images and PDFs, detected from their bytes, never from their names.

``load`` turns a path or bytes into a list of :class:`Page`. Each page is an 8-bit grayscale (H, W) or
RGB (H, W, 3) numpy array with the resolution the file states (``dpi``; ``None`` when it states none).
Transparency is flattened onto white, EXIF orientation is applied, 1-bit, 16-bit, palette and CMYK
images are converted, and every frame of a TIFF or GIF and every page of a PDF becomes its own page.
The pixel count is checked from the header before anything is decoded.
"""

from __future__ import annotations

import io
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from .errors import DamagedFileError, EmptyFileError, NotAnImageError, TooLargeError

DEFAULT_MAX_PIXELS = 80_000_000
PDF_DPI = 300
MAX_PAGES = 500
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "PPM")
READABLE = "PNG, JPEG, TIFF, BMP, WebP, GIF or PDF"
_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe

# Pillow's own decompression-bomb guard stays on as a second line behind our header check.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_PIXELS)


@dataclass(eq=False)
class Page:
    """One page to read: a frame of an image file or a page of a PDF."""

    name: str
    index: int = 0  # 0-based position in its file
    count: int = 1  # pages in its file
    dpi: float | None = None
    source: str = ""  # the file's name as given
    kind: str = ""  # detected format, e.g. "JPEG", "PDF"
    notes: list[str] = field(default_factory=list)
    _image: np.ndarray | None = field(default=None, repr=False)
    _render: Callable[[], np.ndarray] | None = field(default=None, repr=False)

    @property
    def image(self) -> np.ndarray:
        """The page's pixels (uint8, gray or RGB). PDF pages are rasterised on first use."""
        if self._image is None:
            assert self._render is not None
            self._image = self._render()
            self._render = None
        return self._image

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        h, w = self.image.shape[:2]
        return w, h


def load(
    source: str | os.PathLike | bytes,
    name: str | None = None,
    *,
    pdf_dpi: int = PDF_DPI,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[Page]:
    """Read a file (a path, or its bytes with a ``name``) into pages.

    Raises an :class:`~ocr.errors.InputError` subclass with one plain sentence when the file is empty,
    not an image or PDF, damaged, or larger than ``max_pixels``.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = name or "upload"
    else:
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotAnImageError("no such file.") from None
        except IsADirectoryError:
            raise NotAnImageError("this is a folder, not a file.") from None
        except OSError as e:
            raise NotAnImageError(f"the file cannot be read ({e.strerror or e}).") from None
    if not data:
        raise EmptyFileError("the file is empty (0 bytes).")
    if b"%PDF-" in data[:1024]:
        return _load_pdf(data, name, pdf_dpi, max_pixels)
    return _load_image(data, name, max_pixels)


def _page_name(name: str, index: int, count: int) -> str:
    return name if count == 1 else f"{name}#{index + 1}"


# -- images -----------------------------------------------------------------------------------------


def _load_image(data: bytes, name: str, max_pixels: int) -> list[Page]:
    try:
        im = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        raise NotAnImageError(f"not an image or PDF that this tool reads ({READABLE}).") from None
    except Image.DecompressionBombError:
        raise TooLargeError(f"the image is over the limit of {max_pixels / 1e6:g} megapixels.") from None
    except Exception as e:  # a header Pillow recognises but cannot parse
        raise DamagedFileError(f"the file looks like an image but its header is damaged ({e}).") from None
    kind = im.format or "image"
    count = getattr(im, "n_frames", 1) or 1
    if count > MAX_PAGES:
        raise TooLargeError(f"the file has {count} frames; at most {MAX_PAGES} are read.")
    pages = []
    try:
        for index, frame in enumerate(ImageSequence.Iterator(im)):
            w, h = frame.size
            if w * h > max_pixels:
                raise TooLargeError(
                    f"{'the image' if count == 1 else f'frame {index + 1}'} is {w}x{h} pixels ({w * h / 1e6:.1f} megapixels), "
                    f"over the limit of {max_pixels / 1e6:g} megapixels."
                )
            if w == 0 or h == 0:
                raise DamagedFileError("the image is empty (0 pixels).")
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                array = _to_array(ImageOps.exif_transpose(frame) if index == 0 else frame)
            notes = []
            if count > 1 and kind in ("GIF", "WEBP", "PNG"):
                notes.append(f"frame {index + 1} of {count}: each frame of an animation is read as a page")
            pages.append(
                Page(
                    name=_page_name(name, index, count),
                    index=index,
                    count=count,
                    dpi=_dpi(frame.info.get("dpi") or im.info.get("dpi")),
                    source=name,
                    kind=kind,
                    notes=notes,
                    _image=array,
                )
            )
    except (TooLargeError, DamagedFileError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLargeError(f"the image is over the limit of {max_pixels / 1e6:g} megapixels.") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError) as e:
        raise DamagedFileError(f"the image is damaged and cannot be decoded ({e}).") from None
    return pages


def _dpi(value) -> float | None:
    """A usable resolution from Pillow's ``info['dpi']``, or None when absent or implausible."""
    try:
        dpi = float(value[0] if isinstance(value, (tuple, list)) else value)
    except (TypeError, ValueError, IndexError):
        return None
    return round(dpi) if 30 <= dpi <= 4800 else None


def _to_array(im: Image.Image) -> np.ndarray:
    """Any Pillow mode to uint8 gray or RGB, transparency flattened onto white."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _stretch(np.asarray(im), mode)
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif mode in ("PA", "La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode in ("LA", "RGBA"):
        white = Image.new(im.mode, im.size, (255,) * len(im.mode))
        im = Image.alpha_composite(white, im).convert("L" if im.mode == "LA" else "RGB")
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def _stretch(arr: np.ndarray, mode: str) -> np.ndarray:
    """16-bit and float images to 8 bits: 16-bit by its full range, others by their own min..max."""
    arr = arr.astype(np.float64)
    if mode.startswith("I;16"):
        lo, hi = 0.0, 65535.0
    else:
        lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.full(arr.shape, 255, np.uint8)
    return np.ascontiguousarray(np.clip((arr - lo) * (255.0 / (hi - lo)), 0, 255).round().astype(np.uint8))


# -- PDF --------------------------------------------------------------------------------------------


def _load_pdf(data: bytes, name: str, dpi: int, max_pixels: int) -> list[Page]:
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK:
        return _open_pdf(pdfium, data, name, dpi, max_pixels)


def _open_pdf(pdfium, data: bytes, name: str, dpi: int, max_pixels: int) -> list[Page]:
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise DamagedFileError("the PDF is password-protected.") from None
        raise DamagedFileError(f"the PDF is damaged ({e}).") from None
    try:
        count = len(doc)
        if count == 0:
            raise DamagedFileError("the PDF has no pages.")
        if count > MAX_PAGES:
            raise TooLargeError(f"the PDF has {count} pages; at most {MAX_PAGES} are read.")
        pages = []
        for index in range(count):
            w_pt, h_pt = doc[index].get_size()
            page_dpi, notes = float(dpi), []
            pixels = (w_pt * page_dpi / 72) * (h_pt * page_dpi / 72)
            if pixels > max_pixels:
                page_dpi = float(int(72 * (max_pixels / (w_pt * h_pt)) ** 0.5))
                if page_dpi < 50:
                    raise TooLargeError(f"page {index + 1} is too large to rasterise.")
                notes.append(f"rasterised at {page_dpi:.0f} dpi instead of {dpi} to stay under the pixel limit")
            pages.append(
                Page(
                    name=_page_name(name, index, count),
                    index=index,
                    count=count,
                    dpi=page_dpi,
                    source=name,
                    kind="PDF",
                    notes=notes,
                    _render=_pdf_renderer(data, index, page_dpi),
                )
            )
        return pages
    finally:
        doc.close()


def _pdf_renderer(data: bytes, index: int, dpi: float) -> Callable[[], np.ndarray]:
    def render() -> np.ndarray:
        import pypdfium2 as pdfium

        with _PDFIUM_LOCK:
            try:
                doc = pdfium.PdfDocument(data)
                try:
                    bitmap = doc[index].render(scale=dpi / 72)
                    return _to_array(bitmap.to_pil())
                finally:
                    doc.close()
            except pdfium.PdfiumError as e:
                raise DamagedFileError(f"the page cannot be rasterised ({e}).") from None

    return render
