"""Draw pages of known text with the degradations auto-tune is for, as ``NAME.png`` + ``NAME.gt.txt``.

    .venv/bin/python scripts/draw_pages.py OUTDIR --seed 7 --count 40 --text docstrings
    .venv/bin/python -m ocr.eval OUTDIR
    .venv/bin/python scripts/draw_pages.py OUTDIR --seed 4242 --count 20 --kinds skew,skewmix --skew 2,10

Held-out data for auto-tune's judge: text it was not built on (Python's own docstrings, or the licence
texts in /usr/share/common-licenses), DejaVu fonts, and one degradation each, drawn at random: shadows
and uneven light, low contrast, blur, noise, JPEG artefacts, small print scanned at low resolution,
skew, 90/180/270-degree turns, light text on dark, coloured type on coloured paper, moire, a mix, a
photograph of the page on a desk, and thermal-receipt-like narrow columns with stains. The same seed
draws the same pages (the docstrings follow the Python version). ``--kinds`` draws only the degradations
named (``skewmix``, skew with one other degradation, only when asked for) and ``--skew`` sets the range
of skew angles; without them the draws are as they always were.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import math
import random
import re
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

D = '/usr/share/fonts/truetype/dejavu/'
FONTS = ['DejaVuSans.ttf', 'DejaVuSerif.ttf', 'DejaVuSansMono.ttf', 'DejaVuSansCondensed.ttf', 'DejaVuSerif-Italic.ttf',
         'DejaVuSans-Bold.ttf', 'DejaVuSerifCondensed.ttf', 'DejaVuSans-Oblique.ttf']

def license_text():
    out = []
    for p in Path('/usr/share/common-licenses').iterdir():
        if p.is_file():
            out.append(p.read_text(errors='ignore'))
    return out

def doc_text():
    out, seen = [], set()
    for mod in ['json', 'csv', 'argparse', 'logging', 'collections', 'random', 'statistics', 'textwrap', 'calendar',
                'difflib', 'heapq', 'bisect', 'fractions', 'decimal', 'shutil', 'tempfile', 'glob', 'fnmatch',
                'zipfile', 'tarfile', 'gzip', 'sqlite3', 'socket', 'http.client', 'urllib.parse', 'email.message',
                'smtplib', 'threading', 'queue', 'subprocess', 'datetime', 'string', 're', 'unittest', 'doctest',
                'pdb', 'pickle']:
        try:
            m = importlib.import_module(mod)
        except Exception:
            continue
        for obj in [m] + [getattr(m, n) for n in dir(m) if not n.startswith('_')]:
            if not (inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj)):
                continue  # constants carry their type's docstring
            d = getattr(obj, '__doc__', None)
            if isinstance(d, str) and len(d) > 300 and d not in seen:
                seen.add(d)
                out.append(d)
    return out

def paragraphs(sources, rng, nchars):
    src = rng.choice(sources)
    words = re.sub(r'\s+', ' ', src).split(' ')
    words = [w for w in words if w and len(w) < 25 and not re.search(r'[<>{}\[\]|\\_=]{1}', w)]
    start = rng.randrange(0, max(1, len(words) - 400))
    out, n = [], 0
    for w in words[start:]:
        out.append(w)
        n += len(w) + 1
        if n > nchars:
            break
    return ' '.join(out)

ITEMS = ['Coffee', 'Tea', 'Milk 1L', 'Bread', 'Butter', 'Eggs 12pc', 'Apple Juice', 'Rice 5kg', 'Sugar', 'Noodles',
         'Chicken', 'Soap', 'Tissue', 'Water 500ml', 'Cheese', 'Yoghurt', 'Pencil', 'Notebook A4', 'Battery AA',
         'Shampoo', 'Tomato', 'Onion', 'Garlic', 'Chili Sauce', 'Biscuits', 'Chocolate', 'Orange', 'Banana']
SHOPS = ['GREEN MART', 'CITY STATIONERY', 'SUNRISE BAKERY', 'HAPPY FOOD STORE', 'NORTH HARDWARE', 'PEARL PHARMACY']

def receipt_lines(rng):
    lines = [rng.choice(SHOPS),
             f'NO {rng.randint(1,99)}, JALAN {rng.choice(["MERAH","BUNGA","UTAMA","BESAR"])} {rng.randint(1,30)}',
             f'TEL: {rng.randint(100,999)}-{rng.randint(1000000,9999999)}',
             f'INVOICE NO: {rng.choice("ABCDEF")}{rng.randint(10000,99999)}',
             f'DATE: {rng.randint(1,28):02d}/{rng.randint(1,12):02d}/20{rng.randint(10,24)}'
             f'  {rng.randint(0,23):02d}:{rng.randint(0,59):02d}']
    total = 0
    for _ in range(rng.randint(3, 9)):
        q, price = rng.randint(1, 5), rng.randint(50, 5000) / 100
        total += q * price
        lines.append(f'{rng.choice(ITEMS)}')
        lines.append(f'{q} x {price:.2f}   {q*price:.2f}')
    lines += [f'TOTAL   {total:.2f}', f'CASH   {math.ceil(total):.2f}', f'CHANGE   {math.ceil(total)-total:.2f}',
              'THANK YOU, PLEASE COME AGAIN']
    return lines

def draw_lines(lines, font, size, width, ink=0, paper=255, margin=None, spacing=1.45, mode='L'):
    face = ImageFont.truetype(D + font, size)
    margin = margin or size * 2
    h = int(margin * 2 + len(lines) * size * spacing)
    img = Image.new(mode, (width, h), paper)
    dr = ImageDraw.Draw(img)
    y = margin
    for line in lines:
        dr.text((margin, y), line, fill=ink, font=face)
        y += int(size * spacing)
    return img

def wrap(text, font, size, width, margin):
    face = ImageFont.truetype(D + font, size)
    avg = face.getlength('abcdefghijklmnopqrstuvwxyz') / 26
    return textwrap.wrap(text, max(10, int((width - 2 * margin) / avg)))

# -- degradations on float gray/RGB arrays 0..255 --
def shadow(a, rng):
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.3, 1.3) * h
    d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / max(h, w)
    f = 1 - rng.uniform(0.4, 0.75) * np.clip(1 - d, 0, 1) ** 1.5
    if rng.random() < 0.5:  # hard shadow edge
        edge = (xx * rng.uniform(-1, 1) + yy) > rng.uniform(0.3, 0.7) * h
        f = f * np.where(edge, rng.uniform(0.45, 0.7), 1.0)
    return a * (f[..., None] if a.ndim == 3 else f)

def contrast(a, rng):
    lo, hi = rng.uniform(90, 160), rng.uniform(190, 235)
    return lo + a / 255 * (hi - lo)

def blur(a, rng):
    s = rng.uniform(0.8, 1.8)
    return cv2.GaussianBlur(a, (0, 0), s)

def noise(a, rng):
    return a + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, rng.uniform(12, 35), a.shape)

def jpeg(img_u8, rng):
    buf = io.BytesIO()
    Image.fromarray(img_u8).save(buf, 'JPEG', quality=rng.randint(12, 35))
    buf.seek(0)
    return np.asarray(Image.open(buf)).astype(np.float64)

SKEW = (2.0, 9.0)  # degrees, either way; --skew changes it
SKEWED = None  # the angle the last skew turned by (printed with the page's name)


def skew(a, rng):
    global SKEWED
    ang = rng.choice([-1, 1]) * rng.uniform(*SKEW)
    SKEWED = ang
    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * s + w * c), int(h * c + w * s)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    border = tuple([float(np.percentile(a, 95))] * (3 if a.ndim == 3 else 1))
    return cv2.warpAffine(a, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=border)

def moire(a, rng):
    h, w = a.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    p = rng.uniform(3, 7)
    t = rng.uniform(0, math.pi)
    pat = np.sin((xx * math.cos(t) + yy * math.sin(t)) * 2 * math.pi / p) * rng.uniform(15, 35)
    return a + (pat[..., None] if a.ndim == 3 else pat)

def stains(a, rng):
    h, w = a.shape[:2]
    out = a.copy()
    for _ in range(rng.randint(2, 6)):
        mask = np.zeros((h, w), np.float32)
        cv2.circle(mask, (rng.randrange(w), rng.randrange(h)), rng.randint(20, max(21, w // 4)), 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 15)
        k = rng.uniform(0.15, 0.35)
        out = out * (1 - k * (mask[..., None] if a.ndim == 3 else mask))
    return out

KINDS = ['clean', 'shadow', 'lowcontrast', 'blur', 'noise', 'jpeg', 'small', 'skew', 'rot', 'dark', 'receipt', 'color',
         'moire', 'mixed', 'photo']
EXTRA_KINDS = ['skewmix']  # drawn only when asked for (--kinds), so that the default draws stay as they were


def photo(a, rng):
    """The page photographed on a desk: larger, a little turned and in perspective, unevenly lit, soft."""
    h, w = a.shape[:2]
    pad = int(0.12 * max(h, w))
    desk = rng.uniform(40, 110)
    big = np.full((h + 2 * pad, w + 2 * pad), desk)
    big[pad:pad + h, pad:pad + w] = a
    H, W = big.shape
    j = lambda: rng.uniform(-0.04, 0.04) * min(H, W)
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    dst = np.float32([[pad + j(), pad + j()], [pad + w + j(), pad + j()],
                      [pad + w + j(), pad + h + j()], [pad + j(), pad + h + j()]])
    m = cv2.getPerspectiveTransform(src, dst)
    big = cv2.warpPerspective(big, m, (W, H), flags=cv2.INTER_CUBIC, borderValue=desk)
    f = rng.uniform(1.6, 2.4)
    big = cv2.resize(big, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), rng.uniform(1.0, 2.2))
    big = shadow(big, rng)
    return noise(big, rng) if rng.random() < 0.6 else big


def make(rng, sources, kinds=None):

    kind = rng.choice(kinds or KINDS)
    font = rng.choice(FONTS)
    dpi = rng.choice([None, 150, 200, 300])
    width = rng.randint(800, 1400)
    size = rng.randint(20, 34)
    if kind == 'receipt':
        lines = receipt_lines(rng)
        font = rng.choice(['DejaVuSansMono.ttf', 'DejaVuSansCondensed.ttf', 'DejaVuSansMono-Bold.ttf'])
        size = rng.randint(16, 26)
        width = rng.randint(380, 620)
        img = draw_lines(lines, font, size, width, margin=size)
        a = np.asarray(img, np.float64)
        a = contrast(a, rng) if rng.random() < 0.7 else a
        a = stains(a, rng) if rng.random() < 0.6 else a
        a = blur(a, rng) if rng.random() < 0.5 else a
        a = noise(a, rng) if rng.random() < 0.4 else a
        truth = lines
    else:
        margin = size * 2
        nchars = rng.randint(350, 900)
        lines = wrap(paragraphs(sources, rng, nchars), font, size, width, margin)
        ink, paper, mode = 0, 255, 'L'
        if kind == 'dark':
            ink, paper = rng.randint(200, 255), rng.randint(0, 70)
        if kind == 'color':
            mode = 'RGB'
            paper = tuple(rng.randint(40, 200) for _ in range(3))
            ink = tuple(min(255, max(0, c + rng.choice([-1, 1]) * rng.randint(80, 160))) for c in paper)
            size = rng.randint(36, 70)
            margin = size
            lines = wrap(paragraphs(sources, rng, rng.randint(80, 250)), font, size, width, margin)
        img = draw_lines(lines, font, size, width, ink=ink, paper=paper, margin=margin, mode=mode)
        a = np.asarray(img, np.float64)
        truth = lines
        if kind == 'shadow':
            a = shadow(a, rng)
        if kind == 'lowcontrast':
            a = contrast(a, rng)
            a = blur(a, rng) if rng.random() < 0.3 else a
        if kind == 'blur':
            a = blur(a, rng)
        if kind == 'noise':
            a = noise(a, rng)
        if kind == 'skew':
            a = skew(a, rng)
        if kind == 'skewmix':  # skew and one other degradation
            other = rng.choice([shadow, contrast, blur, noise, 'jpeg'])
            a = skew(a, rng) if other == 'jpeg' else skew(other(a, rng), rng)
        if kind == 'moire':
            a = moire(blur(a, rng), rng)
        if kind == 'color':
            a = shadow(a, rng) if rng.random() < 0.5 else a
        if kind == 'photo':
            a = photo(a, rng)
        if kind == 'mixed':
            for f in rng.sample([shadow, contrast, blur, noise, skew], 3):
                a = f(a, rng)
        if kind == 'small':  # printed small, scanned at low resolution
            f = rng.uniform(0.3, 0.5)
            a = cv2.resize(a, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        if kind == 'rot':
            a = np.rot90(a, rng.choice([1, 2, 3])).copy()
            if rng.random() < 0.5:
                a = noise(a, rng)
    u8 = np.clip(a, 0, 255).astype(np.uint8)
    jpeg_kind = kind in ('jpeg', 'mixed', 'moire', 'color', 'photo') or (kind == 'skewmix' and other == 'jpeg')
    if jpeg_kind or rng.random() < 0.3:
        u8 = np.clip(jpeg(u8, rng), 0, 255).astype(np.uint8)
    return kind, u8, dpi, truth

def main(argv: list[str] | None = None) -> int:
    global SKEW, SKEWED
    p = argparse.ArgumentParser(description="Draw degraded pages of known text.")
    p.add_argument("outdir", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--count", type=int, default=40)
    p.add_argument("--text", choices=("docstrings", "licenses"), default="docstrings")
    p.add_argument("--kinds", default="", help="comma-separated degradations to draw from (default: all of "
                   "KINDS); 'skewmix' is skew with one other degradation")
    p.add_argument("--skew", default="", metavar="MIN,MAX", help="skew angle range in degrees, either way "
                   f"(default {SKEW[0]:g},{SKEW[1]:g})")
    args = p.parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] or None
    unknown = set(kinds or ()) - set(KINDS + EXTRA_KINDS)
    if unknown:
        p.error(f"unknown kinds: {', '.join(sorted(unknown))}")
    if args.skew:
        SKEW = tuple(float(v) for v in args.skew.split(","))
    rng = random.Random(args.seed)
    sources = license_text() if args.text == "licenses" else doc_text()
    args.outdir.mkdir(parents=True, exist_ok=True)
    for i in range(args.count):
        SKEWED = None
        kind, u8, dpi, truth = make(rng, sources, kinds)
        name = f"syn{args.seed}_{i:02d}_{kind}"
        image = Image.fromarray(u8)
        image.save(args.outdir / f"{name}.png", **({"dpi": (dpi, dpi)} if dpi else {}))
        (args.outdir / f"{name}.gt.txt").write_text("\n".join(truth) + "\n", encoding="utf-8")
        turned = f"skew {SKEWED:+.1f}" if SKEWED is not None else ""
        print(name, "x".join(map(str, u8.shape[:2])), dpi or "-", turned, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
