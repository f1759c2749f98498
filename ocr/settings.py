"""The one description of a preprocessing pipeline (``Settings``) and of a Tesseract run (``Options``).

Both are frozen dataclasses of plain values, so they hash (cache keys), compare, and travel as JSON
presets, URL query parameters and command-line flags. ``Settings()`` changes nothing that could hurt a
clean scan; every step is off until asked for.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, get_type_hints

from .errors import SettingsError

THRESHOLDS = ("none", "fixed", "otsu", "adaptive_mean", "adaptive_gaussian", "sauvola")
BACKGROUNDS = ("none", "blur", "close")
DENOISERS = ("none", "median", "nlmeans")
INVERTS = ("no", "yes", "auto")
MORPHOLOGIES = ("none", "open", "close", "dilate", "erode")
ROTATIONS = (0, 90, 180, 270)

_CHOICES = {
    "threshold": THRESHOLDS,
    "background": BACKGROUNDS,
    "denoise": DENOISERS,
    "invert": INVERTS,
    "morphology": MORPHOLOGIES,
    "rotate": ROTATIONS,
}
# (low, high) inclusive bounds for numbers.
_BOUNDS = {
    "max_skew": (0.5, 45.0),
    "scale": (0.1, 8.0),
    "target_dpi": (0, 1200),
    "background_size": (0, 1001),
    "denoise_strength": (1, 50),
    "clahe_clip": (0.1, 40.0),
    "clahe_tile": (1, 64),
    "threshold_value": (0, 255),
    "block_size": (3, 1001),
    "c": (-100.0, 100.0),
    "sauvola_k": (0.0, 1.0),
    "morph_kernel": (1, 51),
    "psm": (0, 13),
    "oem": (0, 3),
    "dpi": (0, 4800),
    "timeout": (1.0, 3600.0),
}


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """Turn a JSON or query-string value into the field's type, or raise SettingsError."""
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            if isinstance(value, (bool, int)) and value in (0, 1):
                return bool(value)
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if kind is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError(value)
            return str(value)
        if name == "crop":
            if value in (None, "", "none"):
                return None
            parts = value.split(",") if isinstance(value, str) else list(value)
            box = tuple(int(float(p)) for p in parts)
            if len(box) != 4:
                raise ValueError(value)
            return box
    except (TypeError, ValueError):
        pass
    raise SettingsError(f"setting {name!r} cannot be {value!r}.")


class _Plain:
    """Shared behaviour of the two settings dataclasses: checking, dicts, JSON, strings."""

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            kind = hints[f.name]
            if type(value) is not kind and (value is not None or f.name != "crop"):
                value = _coerce(f.name, kind, value)
            if f.name in _CHOICES and value not in _CHOICES[f.name]:
                allowed = ", ".join(str(c) for c in _CHOICES[f.name])
                raise SettingsError(f"setting {f.name!r} cannot be {value!r} (one of: {allowed}).")
            if f.name in _BOUNDS:
                low, high = _BOUNDS[f.name]
                if not low <= value <= high:
                    raise SettingsError(f"setting {f.name!r} must be between {low} and {high}, not {value}.")
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        pass

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if "crop" in data and data["crop"] is not None:
            data["crop"] = list(data["crop"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        if not isinstance(data, dict):
            raise SettingsError(f"{cls.__name__.lower()} must be a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}.")
        return cls(**data)

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the defaults (what a URL or a short summary needs)."""
        default = type(self)().to_dict()
        return {k: v for k, v in self.to_dict().items() if v != default[k]}

    def to_strings(self) -> dict[str, str]:
        """Non-default fields as strings, for URL query parameters."""
        out = {}
        for key, value in self.changes().items():
            if isinstance(value, bool):
                value = "1" if value else "0"
            elif isinstance(value, list):
                value = ",".join(str(v) for v in value)
            out[key] = str(value)
        return out

    @classmethod
    def from_strings(cls, data: dict[str, str]):
        """Read back :meth:`to_strings`; keys that are not fields are ignored (a URL carries others)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes):
        return replace(self, **changes)


@dataclass(frozen=True)
class Settings(_Plain):
    """A preprocessing pipeline. Steps run in the order of the fields; pixel sizes are in pixels of the
    image at that point of the pipeline (after the rescale), crop in pixels of the original."""

    crop: tuple[int, int, int, int] | None = None  # x, y, width, height in original pixels
    rotate: int = 0  # degrees clockwise, applied before anything else but the crop
    auto_orient: bool = False  # turn the page upright with Tesseract's orientation detection (OSD)
    grayscale: bool = True
    scale: float = 1.0  # resize factor
    target_dpi: int = 0  # when > 0, resize so the page reaches this resolution instead of using `scale`
    deskew: bool = False  # find the text's skew angle and straighten it
    max_skew: float = 15.0  # degrees searched either side
    background: str = "none"  # none | blur | close: divide by a background estimate (shadows, shading)
    background_size: int = 0  # pixels; 0 picks about a twentieth of the page's short side
    denoise: str = "none"  # none | median | nlmeans
    denoise_strength: int = 3  # median: kernel size in pixels; nlmeans: filter strength h
    clahe: bool = False  # local contrast equalisation
    clahe_clip: float = 2.0
    clahe_tile: int = 8  # tiles per side
    threshold: str = "none"  # none | fixed | otsu | adaptive_mean | adaptive_gaussian | sauvola
    threshold_value: int = 128  # fixed threshold, 0-255
    block_size: int = 31  # adaptive and Sauvola neighbourhood, pixels (odd)
    c: float = 10.0  # adaptive: subtracted from the local mean
    sauvola_k: float = 0.2
    invert: str = "no"  # no | yes | auto (when most of the page is dark)
    morphology: str = "none"  # on the ink: open removes specks, close fills gaps, dilate thickens, erode thins
    morph_kernel: int = 2  # pixels
    border: bool = False  # remove dark regions touching the page edge (scanner borders)

    def _check(self) -> None:
        if self.block_size % 2 == 0:
            object.__setattr__(self, "block_size", self.block_size + 1)
        if self.crop is not None:
            x, y, w, h = self.crop
            if x < 0 or y < 0 or w <= 0 or h <= 0:
                raise SettingsError("crop needs x and y of 0 or more and a width and height above 0.")

    def describe(self) -> str:
        """A short human summary, e.g. ``"x2, otsu, deskew"``; ``"plain"`` for the defaults."""
        parts = []
        for key, value in self.changes().items():
            if key == "crop":
                parts.append("crop")
            elif key == "scale":
                parts.append(f"x{value:g}")
            elif key in ("threshold", "background", "denoise", "morphology"):
                parts.append(f"{key} {value}" if key != "threshold" else str(value))
            elif isinstance(value, bool):
                parts.append(key.replace("_", "-") if value else f"no {key.replace('_', '-')}")
            else:
                parts.append(f"{key.replace('_', ' ')} {value:g}" if isinstance(value, float) else f"{key.replace('_', ' ')} {value}")
        return ", ".join(parts) or "plain"


@dataclass(frozen=True)
class Options(_Plain):
    """How Tesseract reads a page: language(s), page segmentation and engine mode, characters, DPI."""

    lang: str = "eng"  # installed language data, several joined by "+": "eng+deu"
    psm: int = 3  # page segmentation mode (3 = automatic, 6 = one block, 11 = sparse text)
    oem: int = 3  # engine mode (3 = default, 1 = LSTM only)
    whitelist: str = ""  # only these characters
    blacklist: str = ""  # never these characters
    preserve_spaces: bool = False  # keep runs of spaces between words
    dpi: int = 0  # resolution to tell Tesseract; 0 = the page's own (300 when it has none)
    timeout: float = 60.0  # seconds per page

    def _check(self) -> None:
        lang = self.lang.strip()
        if not lang or any(not part or not all(ch.isalnum() or ch in "_-" for ch in part) for part in lang.split("+")):
            raise SettingsError(f"language {self.lang!r} is not a language name like 'eng' or 'eng+deu'.")
        object.__setattr__(self, "lang", lang)


def preset_json(settings: Settings, options: Options | None = None) -> str:
    """A preset file's text: the settings, and the recognition options when given."""
    data: dict[str, Any] = {"settings": settings.to_dict()}
    if options is not None:
        data["options"] = options.to_dict()
    return json.dumps(data, indent=2) + "\n"


def parse_preset(text: str | bytes) -> tuple[Settings, Options | None]:
    """Read a preset: ``{"settings": {...}, "options": {...}}``, or a bare settings object."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise SettingsError(f"the preset is not valid JSON ({e}).") from None
    if not isinstance(data, dict):
        raise SettingsError("a preset must be a JSON object.")
    if "settings" in data or "options" in data:
        extra = sorted(set(data) - {"settings", "options"})
        if extra:
            raise SettingsError(f"unknown preset section {extra[0]!r}.")
        settings = Settings.from_dict(data.get("settings", {}))
        options = Options.from_dict(data["options"]) if "options" in data else None
        return settings, options
    return Settings.from_dict(data), None
