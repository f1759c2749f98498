"""Reading files into pages: images and PDFs, known by their signature at offset 0, never by their names.

``load`` reads only a file's headers and returns a list of :class:`Page`: its pages (a TIFF's, a PDF's)
or frames (a GIF's, an animated WebP's or PNG's), each with its size and resolution. A page's pixels
are decoded when ``page.image`` is first asked for, one page at a time, and can be let go again with
``page.release()`` (or ``with page.decoded() as image:``), so reading a long file holds about one page.

Before anything is decoded, the file is judged whole against :class:`~ocr.limits.Limits`: how many
pages, how many pixels in each, how long each side, how many pixels in all. Each refusal is one sentence.

A decoded page is a read-only 8-bit grayscale (H, W) or RGB (H, W, 3) numpy array. Transparency is
flattened onto white, EXIF orientation is applied (to the first frame), and 1-bit, 16-bit, palette and
CMYK images are converted. PDF pages are drawn by PDFium at 300 dpi, or lower when a page would
otherwise break a limit (the page says so in its notes).
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import struct
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import (
    DamagedFileError,
    EmptyFileError,
    NotAnImageError,
    NotEnoughMemoryError,
    OcrError,
    OverLimitError,
    PasswordError,
    TooLargeError,
)
from .limits import Limits, check_count, check_page, check_total, megapixels

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = Limits().max_pixels_per_page
DEFAULT_DPI = 300  # a page that states no resolution is taken to be at this many dots per inch
PDF_DPI = DEFAULT_DPI  # PDF pages are drawn at this resolution (lower when a page would be too large)
MIN_PDF_DPI = 50  # below this a PDF page is too coarse to read, so it is refused instead
MAX_PAGES = Limits().max_pages
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF", "PPM")
READABLE = "PNG, JPEG, TIFF, BMP, WebP, GIF or PDF"
HEAD = 1024  # bytes of a file read to know its format (a PDF's header may follow junk within them)
_PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe

# Pillow's own decompression-bomb guard stays on as a second line behind our header check.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, DEFAULT_MAX_PIXELS)

#: The signatures at offset 0 that name each format this tool reads (what Pillow's plugins accept).
SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"BM", "BMP"),
    (b"RIFF", "WEBP"),  # with "WEBP" at offset 8, checked in sniff()
    (b"P1", "PPM"), (b"P2", "PPM"), (b"P3", "PPM"), (b"P4", "PPM"), (b"P5", "PPM"), (b"P6", "PPM"),
)

#: EXIF orientation -> the turn that shows the picture upright (the EXIF 2.3 table, as Pillow's exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ANIMATIONS = ("GIF", "PNG", "WEBP")  # formats whose frame N is drawn over frames 0..N-1


# -- pages ------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Page:
    """One page to read: a frame of an image file or a page of a PDF.

    Its pixels are decoded on first use of :attr:`image` and kept until :meth:`release`; its
    :attr:`size` is known from the file's header without decoding.
    """

    name: str
    index: int = 0  # 0-based position in its file
    count: int = 1  # pages in its file
    dpi: float | None = None
    source: str = ""  # the file's name as given
    kind: str = ""  # detected format, e.g. "JPEG", "PDF"
    notes: list[str] = field(default_factory=list)
    _image: np.ndarray | None = field(default=None, repr=False)
    _render: Callable[[], np.ndarray] | None = field(default=None, repr=False)
    _size: tuple[int, int] | None = field(default=None, repr=False)
    _frames: _Frames | None = field(default=None, repr=False)  # the file's frames, shared by its pages
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @property
    def image(self) -> np.ndarray:
        """The page's pixels (uint8, gray or RGB, read-only), decoded now if they are not held."""
        with self._lock:
            if self._image is None:
                if self._render is None:
                    raise DamagedFileError("the page has no pixels.")
                self._image = self._render()
            return self._image

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, from the file's header: asking does not decode the page."""
        if self._image is not None:
            h, w = self._image.shape[:2]
            return w, h
        if self._size is not None:
            return self._size
        h, w = self.image.shape[:2]
        return w, h

    @property
    def held(self) -> bool:
        """Whether the pixels are held now (asking does not decode)."""
        return self._image is not None

    def release(self) -> None:
        """Let the pixels go (they are decoded again if asked for). A page made from an array keeps it."""
        if self._render is not None:
            self._image = None

    @contextmanager
    def pixels(self) -> Iterator[np.ndarray]:
        """``with page.pixels() as image:`` decodes the page for the block and lets it go after,
        unless it was already held before the block."""
        held = self._image is not None
        try:
            yield self.image
        finally:
            if not held:
                self.release()


def release(pages: Sequence[Page]) -> None:
    """Let go of the pixels of these pages and of any frame their files keep ready for the next one."""
    for page in pages:
        page.release()
        if page._frames is not None:
            page._frames.close()


def load(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview,
    name: str | None = None,
    *,
    pdf_dpi: int = PDF_DPI,
    max_pixels: int | None = None,
    limits: Limits | None = None,
) -> list[Page]:
    """Read a file's headers (a path, or its bytes with a ``name``) into pages, decoding no pixels.

    ``limits`` bounds what the file may hold (default :class:`~ocr.limits.Limits`); ``max_pixels``, when
    given, is its pixels per page. A PDF on disk is read by PDFium from its path, a page at a time, and
    the one page of an image file is read again when decoded, so their pages hold no copy of the file;
    the frames of a longer image file share the bytes read now. Raises an
    :class:`~ocr.errors.InputError` subclass with one plain sentence when the file is empty, not an image
    or PDF, damaged, protected, or over a limit.
    """
    limits = limits or Limits()
    if max_pixels is not None:
        limits = replace(limits, max_pixels_per_page=int(max_pixels))
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        name = name or "upload"
        read: Callable[[], bytes] = partial(_same, data)
    else:
        path = Path(source)
        name = name or path.name
        head, stamp = _read_path(path, HEAD)
        if len(head) and sniff(head) == "PDF":  # PDFium reads the file itself, a page at a time
            return _pdf_pages(partial(_pdf_path, path, stamp), name, pdf_dpi, limits)
        data, stamp = _read_path(path)
        read = partial(_read_again, path, stamp)
    if not data:
        raise EmptyFileError("the file is empty (0 bytes).")
    kind = sniff(data)
    if kind == "PDF":
        return _pdf_pages(partial(_same, data), name, pdf_dpi, limits)
    try:
        return _image_pages(data, read, name, kind, limits)
    except NotAnImageError:
        if b"%PDF-" not in data[:HEAD]:
            raise
    # Not an image, but "%PDF-" within the first kilobyte: Acrobat and PDFium accept a PDF whose header
    # follows a few bytes of junk (PDF 1.7 reference, implementation note 13). Only PDFium decides.
    try:
        return _pdf_pages(partial(_same, data), name, pdf_dpi, limits)
    except DamagedFileError:
        raise NotAnImageError(f"not an image or PDF that this tool reads ({READABLE}).") from None


def sniff(data: bytes) -> str | None:
    """The format a file's signature at offset 0 names ("PDF", "PNG", ...), or None."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic) and (kind != "WEBP" or data[8:12] == b"WEBP"):
            return kind
    return None


def _same(data: bytes) -> bytes:
    return data


def _read_path(path: Path, size: int = -1) -> tuple[bytes, tuple[int, int]]:
    """A file's bytes (its first ``size``, or all) and its (size, modification time), or one sentence
    why it cannot be read."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            return f.read(size), (st.st_size, st.st_mtime_ns)
    except FileNotFoundError:
        raise NotAnImageError("no such file.") from None
    except IsADirectoryError:
        raise NotAnImageError("this is a folder, not a file.") from None
    except OSError as e:
        raise NotAnImageError(f"the file cannot be read ({e.strerror or e}).") from None


def _read_again(path: Path, stamp: tuple[int, int]) -> bytes:
    """A path's bytes read again for a page, refused if the file changed since its headers were read."""
    data, now = _read_path(path)
    _unchanged(now, stamp)
    return data


def _unchanged(now: tuple[int, int], stamp: tuple[int, int]) -> None:
    if now != stamp:
        raise DamagedFileError("the file changed on disk after it was opened; open it again.")


def _pdf_path(path: Path, stamp: tuple[int, int]) -> str:
    """A PDF on disk as PDFium opens it: by its path (PDFium reads only what a page needs, so a batch
    holds none of the file's bytes), refused if the file changed since its pages were counted."""
    try:
        st = path.stat()
    except OSError as e:
        raise DamagedFileError(f"the file cannot be read again ({e.strerror or e}).") from None
    _unchanged((st.st_size, st.st_mtime_ns), stamp)
    return os.fspath(path)


def _keep(read: Callable[[], bytes], data: bytes, count: int) -> Callable[[], bytes]:
    """How a file's pages get its bytes when decoded: the one page of a path reads them again (so a batch
    of paths holds no file's bytes between pages); the pages of a longer file share the bytes read now
    (reading the whole file again for each page would cost pages x size)."""
    return read if count == 1 else partial(_same, data)


def _page_name(name: str, index: int, count: int) -> str:
    return name if count == 1 else f"{name}#{index + 1}"


# -- warnings ---------------------------------------------------------------------------------------

_QUIET_LOCK = threading.Lock()
_quiet_users = 0
_quiet_window: warnings.catch_warnings[None] | None = None


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence Pillow's, PDFium's and this module's warnings while a file is read: our limits and
    sentences speak instead (a DecompressionBombWarning never reaches a person's terminal).

    Before Python 3.14 the warning filters are one set for all threads and ``catch_warnings`` puts back
    whatever it saved, so two threads each opening their own would leave the filters changed for good.
    Threads decoding at once therefore share one window, opened by the first and closed by the last.
    """
    global _quiet_users, _quiet_window
    with _QUIET_LOCK:
        if _quiet_users == 0:
            window = warnings.catch_warnings()
            window.__enter__()
            warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", module=r"(PIL|pypdfium2|ocr\.decode)\b")
            _quiet_window = window
        _quiet_users += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_users -= 1
            if _quiet_users == 0 and _quiet_window is not None:
                _quiet_window.__exit__(None, None, None)
                _quiet_window = None


# -- images -----------------------------------------------------------------------------------------


def _image_pages(data: bytes, read: Callable[[], bytes], name: str, kind: str | None, limits: Limits) -> list[Page]:
    """The pages of an image file, from its headers only."""
    try:
        with _quiet():
            im = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            try:
                layout = _layout(im, data, limits)
            finally:
                im.close()
    except OcrError:
        raise
    except UnidentifiedImageError:
        if kind is not None:
            raise DamagedFileError(f"the file looks like a {kind} image but its header is damaged.") from None
        raise NotAnImageError(f"not an image or PDF that this tool reads ({READABLE}).") from None
    except Image.DecompressionBombError as e:
        raise _bomb_error(e, "the image", limits) from None
    except MemoryError:
        raise NotEnoughMemoryError("there was not enough memory to read the image's header.") from None
    except Exception as e:  # Pillow's plug-ins raise anything on a damaged header: one sentence, logged
        log.debug("damaged image header", exc_info=True)
        looks = f"a {kind} image" if kind else "an image"
        raise DamagedFileError(f"the file looks like {looks} but its header is damaged ({_reason(e)}).") from None
    count = len(layout.sizes)
    frames = _Frames(_keep(read, data, count), layout.kind, layout.sizes, layout.orientation, limits)
    animation = count > 1 and layout.kind in _ANIMATIONS
    return [
        Page(
            name=_page_name(name, i, count), index=i, count=count, dpi=layout.dpis[i], source=name,
            kind=layout.kind, notes=[f"each of the animation's {count} frames is read as a page"]
            if animation else [], _render=partial(frames.decode, i), _size=layout.shown(i), _frames=frames,
        )
        for i in range(count)
    ]


@dataclass(frozen=True)
class _Layout:
    """What an image file's headers say: its format, each frame's size as decoded, resolution, orientation."""

    kind: str
    sizes: list[tuple[int, int]]
    dpis: list[float | None]
    orientation: int

    def shown(self, index: int) -> tuple[int, int]:
        """Frame ``index``'s size once upright (EXIF orientation turns only the first frame)."""
        w, h = self.sizes[index]
        return (h, w) if index == 0 and self.orientation in (5, 6, 7, 8) else (w, h)


def _layout(im: Image.Image, data: bytes, limits: Limits) -> _Layout:
    """Count the frames and size them from headers, refusing the file as soon as a limit is broken."""
    kind = im.format or "image"
    unit = "pages" if kind == "TIFF" else "frames"
    orientation = _orientation(im)
    first_dpi = _dpi(im.info.get("dpi"))
    if kind == "GIF":
        sizes, more = _gif_canvases(data, stop=limits.max_pages + 1)
        check_count(len(sizes), unit, limits, more=more)
        sizes = sizes or [im.size]
        dpis = [first_dpi] * len(sizes)
    elif kind in ("PNG", "WEBP"):  # one canvas for every frame; the count is in the header
        count = int(getattr(im, "n_frames", 1) or 1)
        check_count(count, unit, limits)
        sizes, dpis = [im.size] * count, [first_dpi] * count
    else:  # TIFF (and a JPEG holding several pictures): each frame has its own header; seeking decodes nothing
        sizes, dpis = [im.size], [first_dpi]
        while len(sizes) <= limits.max_pages:
            try:
                im.seek(len(sizes))
            except EOFError:
                break
            sizes.append(im.size)
            dpis.append(_dpi(im.info.get("dpi")))
        check_count(len(sizes), unit, limits, more=True)
    layout = _Layout(kind, sizes, dpis, orientation)
    shown = [layout.shown(i) for i in range(len(sizes))]
    for i, size in enumerate(shown):
        if size[0] < 1 or size[1] < 1:
            raise DamagedFileError("the image is empty (0 pixels).")
        check_page(size, _what(i, len(shown), unit), limits)
    check_total(shown, unit, limits)
    return layout


def _what(index: int, count: int, unit: str) -> str:
    """How a sentence names a page: "the image", or "frame 3" / "page 3"."""
    return "the image" if count == 1 else f"{unit.rstrip('s')} {index + 1}"


def _gif_canvases(data: bytes, stop: int) -> tuple[list[tuple[int, int]], bool]:
    """Each frame's canvas size in a GIF, from its block structure (GIF89a spec), decoding no pixel.

    Pillow grows the canvas when a frame reaches past the logical screen, so frame k is as large as the
    screen and every frame up to k. Counting stops after ``stop`` frames; the second value says it did.
    """
    n = len(data)
    if n < 13:
        return [], False
    width, height = struct.unpack_from("<HH", data, 6)
    flags = data[10]
    pos = 13 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
    sizes: list[tuple[int, int]] = []
    while pos < n:
        block = data[pos]
        pos += 1
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: a label, then sub-blocks
            pos = _skip_sub_blocks(data, pos + 1)
        elif block == 0x2C:  # image descriptor
            if pos + 9 > n:
                break
            if len(sizes) == stop:
                return sizes, True
            x, y, w, h, frame_flags = struct.unpack_from("<HHHHB", data, pos)
            pos += 9 + ((3 << ((frame_flags & 7) + 1)) if frame_flags & 0x80 else 0) + 1  # + LZW code size
            width, height = max(width, x + w), max(height, y + h)
            sizes.append((width, height))
            pos = _skip_sub_blocks(data, pos)
        # any other byte is skipped, as Pillow does
    return sizes, False


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    """The offset after a chain of GIF sub-blocks (length byte, then that many bytes; 0 ends it)."""
    n = len(data)
    while pos < n:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) from the header, 1 when absent or unreadable. A PNG's EXIF is taken
    only when it comes before the pixels: Pillow would decode the whole picture to look further."""
    try:
        if im.format == "PNG":
            raw = im.info.get("exif")
            if not raw:
                return 1
            exif = Image.Exif()
            exif.load(raw)
        else:
            exif = im.getexif()
        value = int(exif.get(0x0112, 1))
    except Exception:  # damaged EXIF can raise anything in Pillow's parser: the picture is taken as it is
        log.debug("unreadable EXIF orientation", exc_info=True)
        return 1
    return value if value in _UPRIGHT else 1


def _dpi(value: Any) -> float | None:
    """A usable resolution from Pillow's ``info['dpi']``, or None when absent or implausible."""
    try:
        dpi = float(value[0] if isinstance(value, (tuple, list)) else value)
    except (TypeError, ValueError, IndexError):
        return None
    return round(dpi) if 30 <= dpi <= 4800 else None


class _Frames:
    """One image file's frames, decoded one at a time from its bytes.

    In a GIF, an animated PNG or WebP, frame N is drawn over frames 0..N-1, and Pillow reaches it by
    decoding each of those in turn. So after decoding a frame the open picture is kept (one canvas) to
    step to the next: reading all frames in order costs each frame once, not N times. It is let go
    after the last frame, by :meth:`close`, or when the pages are dropped. Frames of other files
    (TIFF pages, single pictures) are opened and decoded on their own.
    """

    def __init__(self, read: Callable[[], bytes], kind: str, sizes: list[tuple[int, int]], orientation: int,
                 limits: Limits) -> None:
        self.read = read
        self.kind = kind
        self.sizes = sizes
        self.orientation = orientation
        self.limits = limits
        self.animated = kind in _ANIMATIONS and len(sizes) > 1
        self._cursor: Image.Image | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        """Let go of the frame kept for stepping on."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def decode(self, index: int) -> np.ndarray:
        """Frame ``index`` as a read-only uint8 array."""
        if not self.animated:
            return self._decode(index)
        with self._lock:
            return self._decode(index)

    def _decode(self, index: int) -> np.ndarray:
        count = len(self.sizes)
        what = _what(index, count, "pages" if self.kind == "TIFF" else "frames")
        im, self._cursor = self._cursor, None
        keep = False
        try:
            with _quiet():
                if im is None or im.tell() > index:  # no open picture at or before this frame: start again
                    if im is not None:
                        im.close()
                    im = Image.open(io.BytesIO(self.read()), formats=IMAGE_FORMATS)
                im.seek(index)
                if im.size != self.sizes[index]:  # the header said otherwise: judge the frame as it is
                    check_page(im.size, what, self.limits)
                frame = im.transpose(_UPRIGHT[self.orientation]) if index == 0 and self.orientation != 1 else im
                array = _to_array(frame)
            keep = self.animated and index + 1 < count
        except Exception as e:  # a decoder may raise anything on damaged data: one sentence, logged
            log.debug("%s could not be decoded", what, exc_info=True)
            raise _decode_error(e, what, self.limits) from None
        finally:
            if keep:
                self._cursor = im  # kept to step on to the next frame
            elif im is not None:
                im.close()
        return array


def _decode_error(error: Exception, what: str, limits: Limits) -> Exception:
    """The error to raise for a frame that failed to decode: ours as they are, others as one sentence."""
    if isinstance(error, OcrError):
        return error
    if isinstance(error, Image.DecompressionBombError):
        return _bomb_error(error, what, limits)
    if isinstance(error, MemoryError):
        return NotEnoughMemoryError(f"there was not enough memory to decode {what}.")
    if isinstance(error, EOFError):
        return DamagedFileError(f"{what} is missing: the file ends before it.")
    return DamagedFileError(f"{what} is damaged and cannot be decoded ({_reason(error)}).")


def _bomb_error(error: Exception, what: str, limits: Limits) -> TooLargeError:
    """Pillow's own decompression-bomb refusal (a size far past any limit) as our sentence."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    size = f"has {megapixels(int(found.group(1)))} megapixels" if found else "is"
    return OverLimitError(f"{what} {size}, over the limit of {megapixels(limits.max_pixels_per_page)} "
                          "megapixels per page.", limit="max_pixels_per_page")


def _reason(error: BaseException) -> str:
    """A library's error as a few words for the end of a sentence."""
    text = str(error).strip().rstrip(".") or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _to_array(im: Image.Image) -> np.ndarray:
    """Any Pillow mode to read-only uint8 gray or RGB, transparency flattened onto white."""
    mode = im.mode
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _read_only(_stretch(np.asarray(im), mode))
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        im = im.convert("RGB")
    elif mode in ("PA", "La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode in ("LA", "RGBA"):
        flat = Image.new("L" if im.mode == "LA" else "RGB", im.size, "white")
        flat.paste(im if im.mode == "RGBA" else im.convert("L"), mask=im.getchannel("A"))
        im = flat
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return _read_only(np.asarray(im, dtype=np.uint8))


def _read_only(array: np.ndarray) -> np.ndarray:
    """A contiguous array that cannot be written to: decoded pages may be shared between readers."""
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def _stretch(arr: np.ndarray, mode: str) -> np.ndarray:
    """16-bit and float images to 8 bits: 16-bit by its full range, others by their own min..max."""
    if mode.startswith("I;16"):
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(v / 257): 65535 -> 255
    values = arr.astype(np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        return np.full(arr.shape, 255, np.uint8)
    lo, hi = float(values[finite].min()), float(values[finite].max())
    if hi <= lo:
        return np.full(arr.shape, 255, np.uint8)
    values = np.nan_to_num(values, nan=hi, posinf=hi, neginf=lo)
    stretched: np.ndarray = np.clip((values - lo) * (255.0 / (hi - lo)), 0, 255).round().astype(np.uint8)
    return stretched


# -- PDF --------------------------------------------------------------------------------------------

#: PDFium's FPDF_GetLastError codes that say more than "damaged".
_PDFIUM_FILE, _PDFIUM_PASSWORD, _PDFIUM_SECURITY = 2, 4, 5  # FPDF_ERR_FILE, _PASSWORD, _SECURITY


def _pdf_pages(source: Callable[[], bytes | str], name: str, dpi: int, limits: Limits) -> list[Page]:
    """The pages of a PDF (``source()``: its bytes, or its path as a ``str``), from its page sizes only,
    each drawn at ``dpi`` or lower to stay in the limits."""
    import pypdfium2 as pdfium

    with _PDFIUM_LOCK, _quiet():
        doc = _open_pdf(pdfium, source())
        try:
            check_count(len(doc), "pages", limits)
            sizes_pt = [doc.get_page_size(i) for i in range(len(doc))]
        except pdfium.PdfiumError as e:
            raise DamagedFileError(f"the PDF is damaged: its pages cannot be measured ({_reason(e)}).") from None
        finally:
            doc.close()
    count = len(sizes_pt)
    pages, sizes = [], []
    for index, (w_pt, h_pt) in enumerate(sizes_pt):
        page_dpi = _pdf_dpi(w_pt, h_pt, float(dpi), index, limits)
        size = _pdf_pixels(w_pt, h_pt, page_dpi)
        lower = f"rasterised at {page_dpi:.0f} dpi instead of {dpi} to stay under the pixel limit"
        notes = [] if page_dpi == dpi else [lower]
        sizes.append(size)
        pages.append(Page(
            name=_page_name(name, index, count), index=index, count=count, dpi=page_dpi, source=name, kind="PDF",
            notes=notes, _render=_pdf_renderer(source, index, page_dpi), _size=size,
        ))
    check_total(sizes, "pages", limits, at=f"at {dpi} dpi" if all(p.dpi == dpi for p in pages) else "")
    return pages


def _open_pdf(pdfium: Any, source: bytes | str) -> Any:
    """Open a PDF from its bytes or its path (the caller holds ``_PDFIUM_LOCK``), or one sentence why not.

    PDFium's last-error code is one per process and is not reset by a success, and pypdfium2 reports it
    for a document with no pages too (whose loading did not fail). So the document is loaded through
    the raw API: a NULL handle means this call failed and set the code; a handle with no pages is said so.
    """
    raw = pdfium.raw
    if isinstance(source, str):
        handle = raw.FPDF_LoadDocument(os.fsencode(source), None)
    else:
        handle = raw.FPDF_LoadMemDocument64(source, len(source), None)
    if not handle:
        code = raw.FPDF_GetLastError()
        if code == _PDFIUM_PASSWORD:
            raise PasswordError("the PDF is password-protected.")
        if code == _PDFIUM_SECURITY:
            raise PasswordError("the PDF is encrypted in a way this tool cannot open.")
        if code == _PDFIUM_FILE:
            raise DamagedFileError("the PDF cannot be read from its file.")
        raise DamagedFileError("the PDF is damaged and cannot be opened.")
    doc = pdfium.PdfDocument(handle)
    if len(doc) < 1:
        doc.close()
        raise EmptyFileError("the PDF has no pages.")
    return doc


def _pdf_pixels(w_pt: float, h_pt: float, dpi: float) -> tuple[int, int]:
    """The size PDFium draws a page of ``w_pt`` x ``h_pt`` points at ``dpi`` (pypdfium2 rounds up)."""
    scale = dpi / 72
    return math.ceil(w_pt * scale), math.ceil(h_pt * scale)


def _pdf_dpi(w_pt: float, h_pt: float, dpi: float, index: int, limits: Limits) -> float:
    """``dpi``, or the highest whole dpi below it that keeps the page within the per-page limits."""
    if not (math.isfinite(w_pt) and math.isfinite(h_pt)) or w_pt <= 0 or h_pt <= 0:
        raise DamagedFileError(f"page {index + 1} of the PDF has no size.")
    fits = min(72 * math.sqrt(limits.max_pixels_per_page / (w_pt * h_pt)), 72 * limits.max_side / max(w_pt, h_pt))
    if fits >= dpi:
        return dpi
    page_dpi = float(math.floor(fits))
    while page_dpi >= MIN_PDF_DPI:
        w, h = _pdf_pixels(w_pt, h_pt, page_dpi)
        if w * h <= limits.max_pixels_per_page and max(w, h) <= limits.max_side:
            return page_dpi
        page_dpi -= 1
    raise OverLimitError(
        f"page {index + 1} is {w_pt / 72:,.0f}x{h_pt / 72:,.0f} inches: even at {MIN_PDF_DPI} dpi it is over the "
        f"limit of {megapixels(limits.max_pixels_per_page)} megapixels per page or {limits.max_side:,} pixels on "
        "a side.", limit="max_pixels_per_page")


def _pdf_renderer(source: Callable[[], bytes | str], index: int, dpi: float) -> Callable[[], np.ndarray]:
    """A function that draws page ``index`` of the PDF at ``dpi`` when called, opening the file anew
    (a document kept open would keep every page it ever drew in PDFium's caches)."""

    def render() -> np.ndarray:
        import pypdfium2 as pdfium

        where = source()
        with _PDFIUM_LOCK, _quiet():
            doc = _open_pdf(pdfium, where)
            try:
                page = doc[index]
                bitmap = page.render(scale=dpi / 72, rev_byteorder=True)
                pixels = bitmap.to_numpy()
                array = np.array(pixels[..., :3] if pixels.ndim == 3 else pixels)  # a copy: PDFium's goes
                bitmap.close()
                page.close()
            except MemoryError:
                raise NotEnoughMemoryError(f"there was not enough memory to draw page {index + 1}.") from None
            except (pdfium.PdfiumError, ValueError) as e:
                raise DamagedFileError(f"page {index + 1} cannot be rasterised ({_reason(e)}).") from None
            finally:
                doc.close()
        return _read_only(array)

    return render
