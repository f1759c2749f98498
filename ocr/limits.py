"""How much one file may hold, decided from its headers before a single pixel is decoded.

A file is judged whole: its pages (or frames), the pixels of each, the length of each side, and the
pixels of all its pages added up. Pages are decoded one at a time when read (see :mod:`ocr.decode`), so
memory follows the largest page; the total keeps a small file from asking for an hour of work or, were
its frames ever held together, tens of gigabytes. Each refusal is one sentence naming the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import OverLimitError, SettingsError

#: JPEG (65,535), WebP (16,383) and OpenCV's encoders refuse longer sides; 65,500 leaves a margin.
MAX_SIDE = 65_500


@dataclass(frozen=True)
class Limits:
    """What one file may hold. Every number counts pixels of the page as decoded (a PDF page at the
    resolution it is drawn at), frames of an animation counting as pages.

    The defaults read a 500-page A4 PDF at 300 dpi (500 x 8.7 megapixels), a 12-megapixel photo, or
    a 60-frame GIF of full-size pages, and refuse the rest in one sentence.
    """

    max_pixels_per_page: int = 80_000_000
    max_pixels_per_file: int = 5_000_000_000
    max_pages: int = 500
    max_side: int = MAX_SIDE

    def __post_init__(self) -> None:
        for name in ("max_pixels_per_page", "max_pixels_per_file", "max_pages", "max_side"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SettingsError(f"{name} must be a whole number above 0, not {value!r}.")

    def sentences(self) -> list[str]:
        """One plain sentence per limit, for a help text or a settings page."""
        return [
            f"Pages per file: at most {self.max_pages:,} (each frame of an animation counts as a page).",
            (f"Pixels per page: at most {megapixels(self.max_pixels_per_page)} megapixels "
             "(a PDF page larger than that is drawn at a lower resolution)."),
            f"Pixels per file: at most {megapixels(self.max_pixels_per_file)} megapixels over all its pages.",
            f"Page sides: at most {self.max_side:,} pixels long.",
        ]


def megapixels(pixels: float) -> str:
    """A pixel count as megapixels for a sentence: ``2,400``, ``80``, ``0.5``."""
    mp = pixels / 1e6
    return f"{mp:,.0f}" if mp >= 10 else f"{mp:.1f}".rstrip("0").rstrip(".")


def check_count(count: int, unit: str, limits: Limits, *, more: bool = False) -> None:
    """Refuse a file with more pages (``unit``: "pages", "frames") than ``limits.max_pages``.

    ``more`` says the count stopped early: the file has at least that many.
    """
    if count > limits.max_pages:
        many = f"more than {limits.max_pages:,}" if more else f"{count:,}"
        raise OverLimitError(f"the file has {many} {unit}, over the limit of {limits.max_pages:,} {unit} per file.",
                             limit="max_pages")


def check_page(size: tuple[int, int], what: str, limits: Limits) -> None:
    """Refuse one page (``what``: "the image", "frame 3") longer than ``max_side`` or over the per-page pixels."""
    w, h = size
    if max(w, h) > limits.max_side:
        raise OverLimitError(f"{what} is {w}x{h} pixels, longer than the limit of {limits.max_side:,} pixels "
                             "on a side.", limit="max_side")
    if w * h > limits.max_pixels_per_page:
        raise OverLimitError(f"{what} is {w}x{h} pixels ({megapixels(w * h)} megapixels), over the limit of "
                             f"{megapixels(limits.max_pixels_per_page)} megapixels per page.",
                             limit="max_pixels_per_page")


def check_total(sizes: list[tuple[int, int]], unit: str, limits: Limits, *, at: str = "") -> None:
    """Refuse a file whose pages add up to more than ``max_pixels_per_file`` (``at``: "at 300 dpi")."""
    total = sum(w * h for w, h in sizes)
    if total > limits.max_pixels_per_file:
        where = f" {at}" if at else ""
        held = f"{len(sizes):,} {unit} hold" if len(sizes) != 1 else f"one {unit.rstrip('s')} holds"
        raise OverLimitError(f"the file's {held} {megapixels(total)} megapixels in all{where}, "
                             f"over the limit of {megapixels(limits.max_pixels_per_file)} megapixels per file.",
                             limit="max_pixels_per_file")
