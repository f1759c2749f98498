"""Draw pages of known text as people photograph them: curled book pages and pages lying slanted on a
table, seen through a camera, with the table around them, uneven light, blur, noise and JPEG.

    .venv/bin/python scripts/draw_photos.py OUTDIR --seed 11 --count 12 --kinds curl,slant

Each page is drawn flat (DejaVu fonts, Python's docstrings or the licence texts, as
``scripts/draw_pages.py`` does), then laid on a surface and photographed: a ray from each pixel of a
pinhole camera meets the surface, and the page's pixel there is taken (or the table's, where the ray
misses the page). ``curl`` bends the page as a book's page bends near its spine (one page, or an open
book of two whose lines dip into the gutter); ``slant`` lays it flat but sees it from an angle, turned
on the table. The same seed draws the same pages. :func:`photograph` is what the tests call.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import draw_pages

KINDS = ("curl", "slant")
BOOK_FONTS = ["DejaVuSerif.ttf", "DejaVuSans.ttf", "DejaVuSerifCondensed.ttf", "DejaVuSansCondensed.ttf"]


def flat_page(rng: random.Random, sources: list[str], *, width: int, size: int) -> tuple[np.ndarray, list[str]]:
    """A page of wrapped text filled to its bottom margin, gray, with its lines."""
    font = rng.choice(BOOK_FONTS)
    margin = int(size * rng.uniform(1.8, 3.0))
    spacing = rng.uniform(1.35, 1.6)
    height = int(width * rng.uniform(1.25, 1.45))
    wanted = int((height - 2 * margin) / (size * spacing))
    lines: list[str] = []
    while len(lines) < wanted:
        lines += draw_pages.wrap(draw_pages.paragraphs(sources, rng, 600), font, size, width, margin)
    lines = lines[:wanted]
    img = draw_pages.draw_lines(lines, font, size, width, margin=margin, spacing=spacing)
    page = np.full((height, width), 255, np.uint8)
    page[: min(height, img.height)] = np.asarray(img)[:height]
    return page, lines


def _rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """World to camera: turned rz about the view axis, then tilted ry and rx (radians)."""
    cx, sx, cy, sy, cz, sz = np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz), np.sin(rz)
    mx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    my = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    mz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return mx @ my @ mz


def _table(rng: random.Random, shape: tuple[int, int]) -> np.ndarray:
    """A textured table top: wood grain or a speckled surface, darker than paper."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(50, 150)
    noise = np.random.default_rng(rng.randrange(1 << 30))
    if rng.random() < 0.5:  # grain along a direction, wobbling
        t = rng.uniform(0, np.pi)
        u = xx * np.cos(t) + yy * np.sin(t)
        v = -xx * np.sin(t) + yy * np.cos(t)
        wobble = 6 * np.sin(v / rng.uniform(40, 120)) + 3 * np.sin(v / rng.uniform(9, 25))
        grain = np.sin((u + wobble) / rng.uniform(3, 9)) * rng.uniform(10, 25)
        out = base + grain
    else:
        out = base + cv2.GaussianBlur(noise.normal(0, 40, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
    return out + noise.normal(0, 4, (h, w))


def _light(a: np.ndarray, rng: random.Random) -> np.ndarray:
    """Uneven light, and half the time the soft-edged shadow of the person holding the phone."""
    h, w = a.shape
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / max(h, w)
    f = 1 - rng.uniform(0.2, 0.5) * np.clip(1 - d, 0, 1) ** 1.5
    if rng.random() < 0.5:
        edge = ((xx * rng.uniform(-1, 1) + yy) > rng.uniform(0.5, 0.9) * h).astype(np.float32)
        edge = cv2.GaussianBlur(edge, (0, 0), 0.03 * max(h, w))
        f = f * (1 - rng.uniform(0.2, 0.45) * edge)
    return np.asarray(a * f)


def photograph(page: np.ndarray, rng: random.Random, kind: str, *, two: bool = False) -> np.ndarray:
    """The page photographed: ``curl`` bent near the spine (``two``: an open book, gutter in the middle),
    ``slant`` lying flat, seen at an angle. Returns the gray photo as uint8."""
    ph, pw = page.shape
    # the page's height over the table along x (page pixels): z(x) >= 0, rising towards the camera
    xs = np.linspace(0, pw, 2048)
    if kind == "curl":
        lift = rng.uniform(0.10, 0.20) * pw
        reach = rng.uniform(0.18, 0.35) * pw
        if two:
            gutter = np.abs(xs - pw / 2)
            z = lift * (1 - np.exp(-gutter / reach)) + rng.uniform(-0.03, 0.03) * pw * (xs / pw - 0.5)
        else:
            spine = xs if rng.random() < 0.5 else pw - xs
            z = lift * (1 - np.exp(-spine / reach)) * (1 - 0.3 * (spine / pw) ** 2)
        tilt = (rng.choice([-1, 1]) * rng.uniform(0.1, 0.35), rng.uniform(-0.15, 0.15), rng.uniform(-0.06, 0.06))
    else:
        z = np.zeros_like(xs)
        tilt = (rng.choice([-1, 1]) * rng.uniform(0.25, 0.55), rng.uniform(-0.3, 0.3), rng.uniform(-0.25, 0.25))
    # arc length along the bent page: where each x of the table lies on the flat page
    dz = np.gradient(z, xs)
    arc = np.concatenate([[0], np.cumsum(np.sqrt(1 + dz[1:] ** 2) * np.diff(xs))])
    arc *= pw / arc[-1]
    # a camera a little wider than the page, looking at its middle
    out_w = int(pw * rng.uniform(1.25, 1.6))
    out_h = int(out_w * rng.choice([0.75, 1.333]))
    f = out_w * rng.uniform(0.75, 1.0)
    dist = f * max(pw / (0.8 * out_w), ph / (0.85 * out_h))
    r = _rotation(*tilt)
    centre = np.array([pw / 2, ph / 2, -float(z.mean())])
    cam = centre - r.T @ np.array([0.0, 0.0, dist])
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    rays = np.stack([(xx - out_w / 2) / f, (yy - out_h / 2) / f, np.ones_like(xx)], axis=-1) @ r  # R^T d
    # world: page on the plane Z=0, Z growing away from the camera; a lifted point has Z = -z(x)
    t = -cam[2] / rays[..., 2]
    for _ in range(12):
        x = cam[0] + t * rays[..., 0]
        t = (-np.interp(x, xs, z) - cam[2]) / rays[..., 2]
    x = cam[0] + t * rays[..., 0]
    y = cam[1] + t * rays[..., 1]
    u = np.interp(x, xs, arc, left=-1, right=-1).astype(np.float32)
    v = np.where((x >= 0) & (x <= pw), y, -1).astype(np.float32)
    photo = cv2.remap(page.astype(np.float32), u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=-1)
    # light: paper tilted away from the light is darker, a shadow in the gutter
    light = 1 - 0.35 * np.clip(np.abs(np.interp(x, xs, dz)), 0, 1)
    paper = (photo * rng.uniform(0.8, 0.97) * light).astype(np.float32)
    inside = photo >= 0
    out = np.where(inside, paper, _table(rng, (out_h, out_w)).astype(np.float32))
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.3))
    out = _light(out.astype(np.float64), rng)
    out = out + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(2, 7), out.shape)
    u8 = np.clip(out, 0, 255).astype(np.uint8)
    return np.clip(draw_pages.jpeg(u8, rng), 0, 255).astype(np.uint8)


def make(rng: random.Random, sources: list[str], kind: str) -> tuple[np.ndarray, list[str]]:
    """One photographed page of ``kind`` and its true lines (an open book's left page, then its right)."""
    size = rng.randint(22, 30)
    width = rng.randint(1000, 1300)
    two = kind == "curl" and rng.random() < 0.5
    if two:
        left, left_lines = flat_page(rng, sources, width=width // 2 + 40, size=size - 4)
        right, right_lines = flat_page(rng, sources, width=width // 2 + 40, size=size - 4)
        h = max(left.shape[0], right.shape[0])
        page = np.full((h, left.shape[1] + right.shape[1]), 255, np.uint8)
        page[: left.shape[0], : left.shape[1]] = left
        page[: right.shape[0], left.shape[1]:] = right
        lines = left_lines + right_lines
    else:
        page, lines = flat_page(rng, sources, width=width, size=size)
    return photograph(page, rng, kind, two=two), lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Draw photographed pages (curled, slanted) of known text.")
    p.add_argument("outdir", type=Path)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--count", type=int, default=12)
    p.add_argument("--text", choices=("docstrings", "licenses"), default="docstrings")
    p.add_argument("--kinds", default=",".join(KINDS))
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if set(kinds) - set(KINDS):
        p.error(f"kinds are {', '.join(KINDS)}")
    rng = random.Random(args.seed)
    sources = draw_pages.license_text() if args.text == "licenses" else draw_pages.doc_text()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        kind = kinds[i % len(kinds)]
        photo, lines = make(rng, sources, kind)
        name = f"photo{args.seed}_{i:02d}_{kind}"
        Image.fromarray(photo).save(args.outdir / f"{name}.jpg", quality=92)
        (args.outdir / f"{name}.gt.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(name, "x".join(map(str, photo.shape[:2])), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
