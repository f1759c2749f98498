"""Accuracy against a known true text: CER and WER with jiwer, after the normalisation the evaluation
set prescribes (Unicode NFKC, straight quotes and dashes, all whitespace collapsed to single spaces)."""

from __future__ import annotations

import re
import unicodedata

import jiwer

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
})
_SEPARATOR_LINE = re.compile(r"^\s*([*\-=_~#.])\1{2,}\s*$", re.M)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split())


def ground_truth(text: str) -> str:
    """A ``.gt.txt`` file's text, normalised, without separator lines such as ``*****`` or ``-----``."""
    return normalize(_SEPARATOR_LINE.sub(" ", text))


def cer(truth: str, text: str) -> float:
    """Character error rate of ``text`` against ``truth`` (both normalised first); 0 is perfect."""
    truth, text = normalize(truth), normalize(text)
    if not truth:
        return 0.0 if not text else 1.0
    return float(jiwer.cer(truth, text))


def wer(truth: str, text: str) -> float:
    truth, text = normalize(truth), normalize(text)
    if not truth:
        return 0.0 if not text else 1.0
    return float(jiwer.wer(truth, text or ""))
