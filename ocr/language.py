"""Finding a page's language from a first reading (``Options.lang == "auto"``).

A page is read first in English (Tesseract's English reads every Latin letter, if not every accent);
``py3langid`` (its model ships in the wheel, nothing is downloaded) names the language of that text, and
:func:`resolve` turns the answer into what to read with: the language found joined with English (pages
in French quote English names and terms), or English alone when the text is English, too short to
tell, or in a language whose data is not installed (said once, as a warning).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

AUTO = "auto"  # Options.lang: find the language from a first reading
FIRST = "eng"  # what the first reading is made with
UNSURE = "und"  # Result.language of a page whose language could not be told (ISO 639's "undetermined")

# py3langid's ISO 639-1 codes -> Tesseract's codes, and the language's name as a person says it.
CODES: dict[str, tuple[str, str]] = {
    "en": ("eng", "English"), "fr": ("fra", "French"), "de": ("deu", "German"), "es": ("spa", "Spanish"),
    "pt": ("por", "Portuguese"), "it": ("ita", "Italian"), "nl": ("nld", "Dutch"), "sv": ("swe", "Swedish"),
    "da": ("dan", "Danish"), "no": ("nor", "Norwegian"), "fi": ("fin", "Finnish"), "pl": ("pol", "Polish"),
    "cs": ("ces", "Czech"), "sk": ("slk", "Slovak"), "sl": ("slv", "Slovenian"), "hr": ("hrv", "Croatian"),
    "hu": ("hun", "Hungarian"), "ro": ("ron", "Romanian"), "tr": ("tur", "Turkish"), "ca": ("cat", "Catalan"),
    "eu": ("eus", "Basque"), "gl": ("glg", "Galician"), "et": ("est", "Estonian"), "lv": ("lav", "Latvian"),
    "lt": ("lit", "Lithuanian"), "is": ("isl", "Icelandic"), "ga": ("gle", "Irish"), "cy": ("cym", "Welsh"),
    "af": ("afr", "Afrikaans"), "id": ("ind", "Indonesian"), "ms": ("msa", "Malay"), "sw": ("swa", "Swahili"),
    "sq": ("sqi", "Albanian"), "vi": ("vie", "Vietnamese"), "ru": ("rus", "Russian"), "uk": ("ukr", "Ukrainian"),
    "el": ("ell", "Greek"), "bg": ("bul", "Bulgarian"), "mk": ("mkd", "Macedonian"), "sr": ("srp", "Serbian"),
    "ar": ("ara", "Arabic"), "he": ("heb", "Hebrew"), "fa": ("fas", "Persian"), "hi": ("hin", "Hindi"),
    "th": ("tha", "Thai"), "ja": ("jpn", "Japanese"), "zh": ("chi_sim", "Chinese"), "ko": ("kor", "Korean"),
}
NAMES = dict(CODES.values())

MIN_LETTERS = 40  # fewer letters than this tell no language apart
SURE = 0.9  # the identifier's probability below which the page stays English

_identifier: Any = None
_lock = threading.Lock()


def _identify() -> Any:
    """py3langid's identifier, limited to the languages above, loaded once per process."""
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(CODES))
            _identifier = identifier
    return _identifier


def warm() -> None:
    """Load the identifier now (about 100 MB a process holds from then on), not at the first page."""
    _identify()


def find(text: str) -> str:
    """The Tesseract code of the language ``text`` is written in; "" when there is too little text or
    the identifier is unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return ""
    code, probability = _identify().classify(text)
    if probability < SURE or code not in CODES:
        log.debug("language unsure: %s at %.2f", code, probability)
        return ""
    return CODES[code][0]


def name(code: str) -> str:
    """A Tesseract language code as a person says it ("fra" -> "French")."""
    return NAMES.get(code, code)


def first(lang: str) -> str:
    """What a page is read with before its language is known: English for ``auto``, else ``lang``."""
    return FIRST if lang == AUTO else lang


@dataclass(frozen=True)
class Found:
    """What a first reading says of its page's language: ``code`` the language found ("" when unsure),
    ``lang`` what the page is read with, ``engine`` the engine whose language data that took."""

    code: str
    lang: str
    engine: str = "Tesseract"

    @property
    def warning(self) -> str:
        """The sentence for a language found whose data is not installed ("" when there is none)."""
        if self.code and self.code != FIRST and self.lang == FIRST:
            said = name(self.code)
            return f"The page looks {said}, but {self.engine}'s {said} is not installed: read as English."
        return ""

    @property
    def note(self) -> str:
        """The language found, in one sentence for a person."""
        if not self.code:
            return "Too little text, or too unlike any language, to tell the page's language: read as English."
        if self.code == FIRST or self.lang == FIRST:
            return f"The page looks {name(self.code)}; read as English."
        return f"The page looks {name(self.code)}: read as {name(self.code)} and English."


def resolve(text: str, installed: Collection[str], engine: str = "Tesseract") -> Found:
    """What to read a page with, from its first reading's ``text``: the language found joined with
    English when ``engine`` has it ``installed``, else English (the :class:`Found` then warns)."""
    code = find(text)
    if not code or code == FIRST or code not in installed:
        return Found(code, FIRST, engine)
    return Found(code, f"{code}+{FIRST}", engine)
