"""A corpus of bad (and awkward but good) files, made at test time: nothing binary is committed.

``corpus()`` returns ``(name, bytes, Expected)`` for each kind: what ``ocr.load`` and then decoding
every page must give. The CLI tests and the app's upload tests read the same corpus; the small
writers (``gif_bomb``, ``png_header``, ...) are here for the memory and fuzz tests too.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from ocr.errors import (
    DamagedFileError,
    EmptyFileError,
    InputError,
    NotAnImageError,
    PasswordError,
    TooLargeError,
)

from .conftest import draw_page


@dataclass(frozen=True)
class Expected:
    """What reading one file must give.

    ``pages``: how many pages ``ocr.load`` returns; 0 when it refuses the file, with ``error`` (a class)
    and a sentence holding every one of ``words``. ``broken``: 0-based pages that load returns but that
    fail to decode, with ``error`` and ``words``. ``text``: a word the good page's text holds.
    """

    pages: int = 0
    error: type[InputError] | None = None
    words: tuple[str, ...] = ()
    broken: tuple[int, ...] = ()
    text: str = ""

    @property
    def refused(self) -> bool:
        """Refused whole, from its headers, by ``ocr.load``."""
        return self.pages == 0

    @property
    def reads(self) -> bool:
        """Every page opens and decodes."""
        return self.pages > 0 and not self.broken


def reads(pages: int = 1, text: str = "") -> Expected:
    return Expected(pages=pages, text=text)


def refused(error: type[InputError], *words: str) -> Expected:
    return Expected(error=error, words=words)


def broken(pages: int, which: tuple[int, ...], error: type[InputError], *words: str) -> Expected:
    return Expected(pages=pages, error=error, words=words, broken=which)


# -- writers ----------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **kwargs)
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` 8-bit gray pixels that are never there."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IEND", b"")


def png_white(width: int, height: int) -> bytes:
    """A real, all-white 8-bit gray PNG, compressed row by row (a pixel bomb when large: a few hundred
    bytes a megapixel), made without ever holding its pixels."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def _lzw_black(pixels: int) -> bytes:
    """GIF image data for ``pixels`` pixels of colour 0: LZW codes of 3 bits, a clear code before each
    pixel so the code size never grows, packed least significant bit first into sub-blocks."""
    bits, count = 0, 0
    for code in [4, 0] * pixels + [5]:  # clear, colour 0, ..., end of information
        bits |= code << count
        count += 3
    data = bits.to_bytes((count + 7) // 8, "little")
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255] for i in range(0, len(data), 255))
    return b"\x02" + blocks + b"\x00"


def gif_frames(width: int, height: int, rects: list[tuple[int, int, int, int]]) -> bytes:
    """A GIF on a ``width`` x ``height`` screen (white) with one black frame per (x, y, w, h) rectangle."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 1, 0) + b"\x00\x00\x00\xff\xff\xff"
    frames = b"".join(b"!\xf9\x04\x04\x00\x00\x00\x00"  # graphic control: keep each frame under the next
                      + b"," + struct.pack("<HHHHB", x, y, w, h, 0) + _lzw_black(w * h)
                      for x, y, w, h in rects)
    return screen + frames + b";"


def gif_bomb(width: int, height: int, frames: int, *, offset: tuple[int, int] = (0, 0)) -> bytes:
    """A GIF of ``frames`` one-pixel frames on a ``width`` x ``height`` screen: 23 bytes a frame, however
    large the canvas each frame is drawn on. The issue's 154-byte and 499-byte files are of this kind."""
    return gif_frames(width, height, [(*offset, 1, 1)] * frames)


def pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF of these objects (1 0 obj is the catalog), with a correct cross-reference table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return out


def pdf_pages(sizes: list[tuple[float, float]]) -> bytes:
    """A PDF of blank pages of these sizes in points, made by PDFium."""
    doc = pdfium.PdfDocument.new()
    for w, h in sizes:
        doc.new_page(w, h).close()
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    return out.getvalue()


def pdf_of_images(images: list[Image.Image], resolution: float = 150) -> bytes:
    """A PDF with one drawn picture a page, by Pillow's PDF writer."""
    rgb = [im.convert("RGB") for im in images]
    return encode(rgb[0], "PDF", resolution=resolution, save_all=True, append_images=rgb[1:])


def encrypted_pdf() -> bytes:
    """A PDF protected by a user password (standard security handler, RC4 40-bit): it has no
    empty-password reading, so it cannot be opened without the password."""
    catalog = b"<< /Type /Catalog /Pages 2 0 R >>"
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    security = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (b"ab" * 32, b"cd" * 32)
    ident = b"<00112233445566778899aabbccddeeff>"
    return pdf_file([catalog, pages, page, security], b"/Encrypt 4 0 R /ID [%s %s] " % (ident, ident))


def with_png_text(data: bytes, key: bytes, text: bytes) -> bytes:
    """A PNG with a tEXt chunk put right after its header (so within its first kilobyte)."""
    end_of_ihdr = 8 + 25
    return data[:end_of_ihdr] + _chunk(b"tEXt", key + b"\x00" + text) + data[end_of_ihdr:]


def webp_header(width: int, height: int) -> bytes:
    """An extended-format WebP header claiming a ``width`` x ``height`` canvas, and nothing else."""
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def zip_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("scan.png", b"not really")
    return out.getvalue()


# -- the corpus -------------------------------------------------------------------------------------


def _page(words: list[str] | None = None, size: tuple[int, int] = (700, 160)) -> Image.Image:
    return draw_page(words or ["Readable words here"], size=size, font_size=36)


@cache
def corpus() -> tuple[tuple[str, bytes, Expected], ...]:
    """Every kind of file, bad and awkward-but-good, with what reading it must give."""
    page = _page()
    png = encode(page, "PNG")
    jpeg = encode(page.convert("RGB"), "JPEG", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown turned 90 degrees clockwise
    frames = [_page([f"Frame {n} words"]) for n in ("one", "two", "three")]
    gif = encode(frames[0].convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames[1:]])
    gif_cut = gif[: len(gif) - 400]
    pdf = pdf_of_images([_page(["First page words"]), _page(["Second page words"])])
    gray16 = Image.fromarray(np.asarray(page).astype(np.uint16) * 257)
    transparent = page.convert("P")
    files: list[tuple[str, bytes, Expected]] = [
        # awkward but good: each reads
        ("good.png", png, reads(text="readable")),
        ("really-a-png.jpg", png, reads(text="readable")),
        ("cmyk.jpg", encode(page.convert("RGB").convert("CMYK"), "JPEG"), reads(text="readable")),
        ("gray16.png", encode(gray16, "PNG"), reads(text="readable")),
        ("palette-transparent.png", encode(transparent, "PNG", transparency=255), reads(text="readable")),
        ("exif-rotated.jpg", encode(page.rotate(90, expand=True).convert("RGB"), "JPEG", exif=exif),
         reads(text="readable")),
        ("pdf-marker-in-metadata.png", with_png_text(png, b"Comment", b"%PDF-1.7 made from a scan"),
         reads(text="readable")),
        ("pdf-marker-in-comment.jpg", jpeg[:2] + b"\xff\xfe\x00\x10%PDF-1.4 here" + jpeg[2:], reads(text="readable")),
        ("bitonal.tif", encode(page.convert("1"), "TIFF", compression="group4"), reads(text="readable")),
        ("three-pages.tif", encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]), reads(3, "frame")),
        ("animated-gif.gif", gif, reads(3, "frame")),
        ("animated-webp.webp", encode(frames[0].convert("RGB"), "WEBP", save_all=True, lossless=True,
                                 append_images=[f.convert("RGB") for f in frames[1:]]), reads(3, "frame")),
        ("animated-apng.png", encode(frames[0], "PNG", save_all=True, append_images=frames[1:]), reads(3, "frame")),
        ("page-bmp.bmp", encode(page, "BMP"), reads(text="readable")),
        ("page-ppm.ppm", encode(page, "PPM"), reads(text="readable")),
        ("one-pixel.gif", gif_bomb(1, 1, 1), reads()),
        ("two-pages.pdf", pdf, reads(2, "page")),
        ("junk-before-header.pdf", b"\r\n\xef\xbb\xbf" + pdf, reads(2, "page")),
        ("broken-xref.pdf", pdf[: pdf.rfind(b"startxref")] + b"startxref\n999999\n%%EOF\n", reads(2, "page")),
        # refused from the header, one sentence each
        ("empty.png", b"", refused(EmptyFileError, "empty")),
        ("one-byte.jpg", b"\xff", refused(NotAnImageError, "not an image")),
        ("notes.txt", b"Just some notes, not a picture.\n" * 20, refused(NotAnImageError, "not an image")),
        ("page-html.html", b"<!doctype html><html><body><img src=scan.png></body></html>",
         refused(NotAnImageError, "not an image")),
        ("scans.zip", zip_file(), refused(NotAnImageError, "not an image")),
        ("mentions-pdf.txt", b"The file format starts with %PDF-1.7 and then objects.\n",
         refused(NotAnImageError, "not an image")),
        ("cut-header-png.png", png[:20], refused(DamagedFileError, "PNG", "damaged")),
        ("cut-header-gif.gif", gif[:9], refused(DamagedFileError, "GIF", "damaged")),
        ("huge-header-png.png", png_header(20000, 20000), refused(TooLargeError, "megapixels", "limit")),
        ("huge-header-bmp.bmp", b"BM" + struct.pack("<IHHIIiiHHIIiiII", 0, 0, 0, 54, 40, 30000, 30000, 1, 24, 0, 0,
                                                2835, 2835, 0, 0), refused(TooLargeError, "megapixels", "limit")),
        ("huge-header-ppm.ppm", b"P5\n60000 60000\n255\n", refused(TooLargeError, "megapixels", "limit")),
        ("huge-canvas-webp.webp", webp_header(16000, 16000), refused(TooLargeError, "megapixels", "limit")),
        ("pixel-bomb.png", png_white(9000, 9000), refused(TooLargeError, "81 megapixels", "80 megapixels per page")),
        ("strip-100000x10.png", png_white(100000, 10), refused(TooLargeError, "100000x10", "65,500")),
        ("strip-10x70000.png", png_header(10, 70000), refused(TooLargeError, "10x70000", "65,500")),
        ("gif-bomb-110gb.gif", gif_bomb(8944, 8944, 500), refused(TooLargeError, "500 frames", "per file")),
        ("gif-bomb-frames.gif", gif_bomb(100, 100, 600), refused(TooLargeError, "more than 500 frames")),
        ("gif-frame-past-screen.gif", gif_bomb(10, 10, 1, offset=(20000, 20000)),
         refused(TooLargeError, "megapixels", "per page")),
        ("six-hundred-pages.tif", encode(Image.new("L", (4, 4), 255), "TIFF", save_all=True,
                                         append_images=[Image.new("L", (4, 4), 255)] * 599),
         refused(TooLargeError, "more than 500 pages")),
        ("no-pages.pdf", pdf_pages([]), refused(EmptyFileError, "no pages")),
        ("encrypted.pdf", encrypted_pdf(), refused(PasswordError, "password")),
        ("garbage.pdf", b"%PDF-1.7\n1 0 obj << garbage", refused(DamagedFileError, "PDF", "damaged")),
        ("huge-page.pdf", pdf_pages([(14400, 14400)]), refused(TooLargeError, "200x200 inches", "50 dpi")),
        ("too-many-pages.pdf", pdf_pages([(72, 72)] * 501), refused(TooLargeError, "501 pages", "500")),
        # the header is whole but the pixels are not: the page fails alone when decoded
        ("cut-body.png", png[: len(png) // 2], broken(1, (0,), DamagedFileError, "damaged")),
        ("cut-last-frame.gif", gif_cut, broken(3, (2,), DamagedFileError, "frame 3")),
    ]
    return tuple(files)
