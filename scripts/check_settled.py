"""How much `auto`'s rule for skipping the second engine costs in accuracy, on pages drawn from seeds.

    .venv/bin/python scripts/check_settled.py OUTDIR --seed 2718281 --count 40

Each page is read by every engine (the judge keeps the best: what `auto` did before the rule) and by
`auto` as it is now; prints each page's CERs and the means, and how many pages the second engine skipped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
from jiwer import cer
from PIL import Image

from ocr import Options, preprocess, recognize
from ocr.engines import default_engine
from ocr.recognition import best, read_each


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--count", type=int, default=40)
    args = p.parse_args()
    if not any(args.folder.glob("*.gt.txt")):
        subprocess.run([sys.executable, str(Path(__file__).with_name("draw_pages.py")), str(args.folder),
                        "--seed", str(args.seed), "--count", str(args.count)], check=True)
    pool = default_engine()
    both, rule, skipped = [], [], 0
    for truth_path in sorted(args.folder.glob("*.gt.txt")):
        image = np.asarray(Image.open(truth_path.with_name(truth_path.name[:-len(".gt.txt")] + ".png")).convert("RGB"))
        truth = truth_path.read_text()
        page = preprocess(image)
        full = best(read_each(page, Options(engine="auto"), engine=pool))
        now = recognize(page, Options(engine="auto"), engine=pool)
        skipped += "did not read" in (now.note or "")
        both.append(cer(truth, full.text))
        rule.append(cer(truth, now.text))
        print(f"{truth_path.name[:-7]:24s} both {both[-1]:.4f}  auto {rule[-1]:.4f}  {now.engine}", flush=True)
    print(f"mean CER: both {sum(both) / len(both):.4f}, auto {sum(rule) / len(rule):.4f}; second engine "
          f"skipped on {skipped} of {len(rule)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
