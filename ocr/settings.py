"""The one description of a preprocessing pipeline (``Settings``) and of how a page is read (``Options``).

Both are frozen dataclasses of plain values, so they hash (cache keys), compare, and travel as JSON
presets, URL query parameters and command-line flags. Each field carries a :class:`Spec`: its label and
help in plain words, its choices or bounds, its unit, the step a control moves by, the group of controls
it belongs to, and the setting it depends on. Checking a value, the app's controls and the command
line's help are all made from these specs, so nothing re-declares them.

``Settings()`` changes nothing that could hurt a clean scan: every clean-up step is off until asked for,
and a page is turned upright only when orientation detection is sure it lies turned.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar, get_type_hints

from .engines import registry
from .errors import SettingsError

_T = TypeVar("_T", bound="_Plain")

# Groups of controls, in the order the Tune page shows them: key -> title.
GROUPS = {
    "page": "Page: crop, turn, straighten, size",
    "light": "Light and noise",
    "ink": "Black and white",
    "reading": "Reading",
}


@dataclass(frozen=True)
class Spec:
    """What one setting means and which values it takes.

    ``choices`` lists the allowed values (``names`` says each in plain words, in the same order);
    numbers have inclusive ``low``/``high`` bounds and the ``step`` a control moves by; ``unit`` is what
    the number counts. ``needs`` names another field and the values it must have for this one to matter
    (the block size matters only for the local thresholds). ``widget`` hints at the control when the
    type alone does not say (``"segmented"``, ``"number"``, ``"languages"``, ``"text"``).
    """

    label: str
    help: str = ""
    group: str = ""
    choices: Sequence[Any] = ()
    names: Sequence[str] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    unit: str = ""
    needs: tuple[str, tuple[Any, ...]] | None = None
    widget: str = ""

    def name_of(self, value: Any) -> str:
        """The plain name of a choice (the value itself when it has none)."""
        if value in self.choices and self.names:
            return self.names[self.choices.index(value)]
        return str(value)

    def words(self, value: Any) -> str:
        """``value`` in plain words, as the controls and the descriptions say it: on or off, a choice's
        name, a number with its unit, a crop as its size and corner."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if self.choices:
            return self.name_of(value)
        if isinstance(value, tuple) and len(value) == 4:
            return f"{value[2]}×{value[3]} pixels from ({value[0]}, {value[1]})"
        if isinstance(value, (int, float)):
            return f"{value:g}" + (f" {self.unit}" if self.unit else "")
        return str(value)

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`SettingsError` when ``value`` is not one of the choices or out of bounds."""
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise SettingsError(f"setting {name!r} cannot be {value!r} (one of: {allowed}).")
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            raise SettingsError(f"setting {name!r} must be between {self.low:g} and {self.high:g}, not {value}.")


def _setting(default: Any, label: str, **spec: Any) -> Any:
    """A dataclass field with its :class:`Spec`."""
    return field(default=default, metadata={"spec": Spec(label=label, **spec)})


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
    except (TypeError, ValueError, OverflowError):
        pass
    raise SettingsError(f"setting {name!r} cannot be {value!r}.")


class _Plain:
    """Shared behaviour of the two settings dataclasses: checking, specs, dicts, JSON, strings."""

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            kind = hints[f.name]
            if type(value) is not kind and (value is not None or f.name != "crop"):
                value = _coerce(f.name, kind, value)
            if "spec" in f.metadata and value is not None:
                f.metadata["spec"].check(f.name, value)
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        pass

    @classmethod
    def spec(cls, name: str) -> Spec:
        """The :class:`Spec` of field ``name``."""
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name == name:
                found: Spec = f.metadata["spec"]
                return found
        raise KeyError(name)

    @classmethod
    def specs(cls) -> Iterator[tuple[str, Spec]]:
        """Every field's name and :class:`Spec`, in the order of the fields."""
        for f in fields(cls):  # type: ignore[arg-type]
            yield f.name, f.metadata["spec"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]
        if "crop" in data and data["crop"] is not None:
            data["crop"] = list(data["crop"])
        return dict(data)

    @classmethod
    def from_dict(cls: type[_T], data: Mapping[str, Any]) -> _T:
        if not isinstance(data, Mapping):
            raise SettingsError(f"{cls.__name__.lower()} must be a JSON object.")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}.")
        return cls(**data)

    def changes(self: _T, base: _T | None = None) -> dict[str, Any]:
        """The fields that differ from ``base`` (by default the defaults): what a URL or a summary needs."""
        default = (base if base is not None else type(self)()).to_dict()
        return {k: v for k, v in self.to_dict().items() if v != default[k]}

    def to_strings(self: _T, base: _T | None = None) -> dict[str, str]:
        """The fields that differ from ``base`` (by default the defaults) as strings, for URL parameters."""
        out = {}
        for key, value in self.changes(base).items():
            if isinstance(value, bool):
                value = "1" if value else "0"
            elif isinstance(value, list):
                value = ",".join(str(v) for v in value)
            out[key] = str(value)
        return out

    @classmethod
    def from_strings(cls: type[_T], data: Mapping[str, str]) -> _T:
        """Read back :meth:`to_strings`; keys that are not fields are ignored (a URL carries others)."""
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self: _T, **changes: Any) -> _T:
        return replace(self, **changes)  # type: ignore[type-var]


DEFAULT_EFFORT = 40.0  # megapixels auto-tune may read a page, per engine (at Tesseract's cost: EngineInfo.cost)

_LOCAL = ("adaptive_mean", "adaptive_gaussian", "sauvola")


@dataclass(frozen=True)
class Settings(_Plain):
    """A preprocessing pipeline. Steps run in the order of the fields; pixel sizes are in pixels of the
    image at that point of the pipeline (after the rescale), crop in pixels of the original."""

    crop: tuple[int, int, int, int] | None = _setting(
        None, "Crop", group="page", unit="pixels", widget="crop",
        help="The part of the page to read; the rest is left out.")
    rotate: int = _setting(
        0, "Turn clockwise", group="page", choices=(0, 90, 180, 270), names=("0°", "90°", "180°", "270°"),
        unit="degrees", widget="segmented", help="Turn the page by a quarter, half or three quarters.")
    find_page: bool = _setting(
        False, "Find the page in a photo", group="page",
        help="Finds the page's four corners where it shows against a table or desk, and straightens the "
             "perspective so the page fills the image square-on (a photo taken at an angle).")
    auto_orient: bool = _setting(
        True, "Turn upright automatically", group="page",
        help="Finds pages turned by 90, 180 or 270 degrees and turns them upright "
             "(Tesseract's orientation and script detection, OSD).")
    uncurl: bool = _setting(
        False, "Flatten a curled page", group="page",
        help="Finds how the text lines curve (a book's page bending towards the spine, a page that is not "
             "flat) and straightens them, as if the page lay flat.")
    grayscale: bool = _setting(
        True, "Grayscale", group="light", help="Read the page in shades of grey (almost always best).")
    scale: float = _setting(
        1.0, "Resize", group="page", low=0.1, high=8.0, step=0.05, unit="×",
        help="Tesseract reads letters about 20-40 pixels high best: enlarge small print, shrink huge print.")
    target_dpi: int = _setting(
        0, "Or resize to a resolution", group="page", low=0, high=1200, step=25, unit="dpi",
        help="When above 0, the page is resized to reach this resolution, instead of by Resize.")
    deskew: bool = _setting(
        False, "Straighten a slanted page", group="page",
        help="Finds the angle of the text lines and turns them level.")
    max_skew: float = _setting(
        15.0, "Look for slants up to", group="page", low=0.5, high=45.0, step=0.5, unit="degrees",
        needs=("deskew", (True,)), help="How far either way to look for the text's slant.")
    background: str = _setting(
        "none", "Flatten shadows", group="light", choices=("none", "blur", "close"),
        names=("Off", "On", "On, ink lifted first"),
        help="Divides the page by an estimate of its paper, so shadows, shading and coloured paper go. "
             "'On' estimates the paper with a median filter, 'ink lifted first' with a morphological closing.")
    background_size: int = _setting(
        0, "Shadow size", group="light", low=0, high=500, step=5, unit="pixels",
        needs=("background", ("blur", "close")),
        help="Larger than the letters, smaller than the shadows; 0 picks a twentieth of the page's short side.")
    denoise: str = _setting(
        "none", "Remove noise", group="light", choices=("none", "median", "nlmeans"),
        names=("Off", "Remove specks", "Smooth out grain (slow)"),
        help="Specks: a median filter. Grain: non-local means denoising.")
    denoise_strength: int = _setting(
        3, "Noise filter strength", group="light", low=1, high=50, step=1,
        needs=("denoise", ("median", "nlmeans")),
        help="Specks: the filter's width in pixels. Grain: the filter's strength (h).")
    clahe: bool = _setting(
        False, "Boost local contrast", group="light",
        help="Evens out the contrast region by region: faint print and uneven light "
             "(CLAHE, contrast-limited adaptive histogram equalisation).")
    clahe_clip: float = _setting(
        2.0, "Contrast limit", group="light", low=0.1, high=20.0, step=0.1, needs=("clahe", (True,)),
        help="How far contrast may be raised: higher brings out fainter print, and more noise (the clip limit).")
    clahe_tile: int = _setting(
        8, "Regions per side", group="light", low=1, high=64, step=1, needs=("clahe", (True,)),
        help="The page is evened out in this many regions across and down (CLAHE's tile grid).")
    threshold: str = _setting(
        "none", "Black & white", group="ink",
        choices=("none", "otsu", "adaptive_gaussian", "sauvola", "adaptive_mean", "fixed"),
        names=("Off: keep the greys", "Level found for the page", "For uneven light", "For stains and fading",
               "For uneven light (plain mean)", "At a level you set"),
        help="Turns the page into pure ink and paper. The level for the page is Otsu's method; uneven light "
             "compares each pixel with its neighbourhood (adaptive threshold, Gaussian or mean); stains and "
             "fading use Sauvola's method.")
    threshold_value: int = _setting(
        128, "Level", group="ink", low=0, high=255, step=1, needs=("threshold", ("fixed",)),
        help="Lighter than this becomes paper, darker becomes ink (0-255).")
    block_size: int = _setting(
        31, "Neighbourhood", group="ink", low=3, high=401, step=2, unit="pixels", needs=("threshold", _LOCAL),
        help="The area each pixel is compared with: about twice a letter's height (the block size).")
    c: float = _setting(
        10.0, "Offset", group="ink", low=-50.0, high=50.0, step=1.0,
        needs=("threshold", ("adaptive_mean", "adaptive_gaussian")),
        help="Subtracted from the neighbourhood's mean: higher keeps less ink (the adaptive threshold's C).")
    sauvola_k: float = _setting(
        0.2, "Ink sensitivity", group="ink", low=0.0, high=1.0, step=0.05, needs=("threshold", ("sauvola",)),
        help="Higher keeps less ink (Sauvola's k).")
    invert: str = _setting(
        "no", "Light text on dark", group="ink", choices=("no", "yes", "auto"),
        names=("No", "Yes", "When the page is mostly dark"),
        help="Turn light print on a dark ground into dark print on light paper.")
    morphology: str = _setting(
        "none", "Shape the ink", group="ink", choices=("none", "open", "close", "dilate", "erode"),
        names=("Off", "Remove specks", "Fill gaps", "Thicken", "Thin"),
        help="Acts on the ink: opening removes specks, closing fills gaps, dilation thickens, erosion thins.")
    morph_kernel: int = _setting(
        2, "Ink shaping size", group="ink", low=1, high=51, step=1, unit="pixels",
        needs=("morphology", ("open", "close", "dilate", "erode")),
        help="The square kernel's side: specks and gaps smaller than this are affected.")
    border: bool = _setting(
        False, "Remove dark borders", group="ink",
        help="Paints dark regions touching the edge (scanner lids, book gutters) the paper's colour.")

    def _check(self) -> None:
        if self.block_size % 2 == 0:
            object.__setattr__(self, "block_size", min(self.block_size + 1, 401))
        if self.crop is not None:
            x, y, w, h = self.crop
            if x < 0 or y < 0 or w <= 0 or h <= 0:
                raise SettingsError("crop needs x and y of 0 or more and a width and height above 0.")

    def describe(self, base: Settings | None = None) -> str:
        """A short summary in the specs' plain words of what differs from ``base`` (by default the
        defaults), e.g. ``"×2, black & white: level found for the page, straighten a slanted page"``;
        ``"plain"`` when nothing does."""
        parts = []
        for key, value in self.changes(base).items():
            spec = self.spec(key)
            label = spec.label.lower()
            if key == "crop":
                parts.append("cropped")
            elif key == "scale":
                parts.append(f"×{value:g}")
            elif key == "rotate":
                parts.append(f"turned {value}°")
            elif isinstance(value, bool):
                parts.append(label if value else f"{label}: off")
            elif spec.choices:
                parts.append(f"{label}: {spec.words(value).lower()}")
            else:
                parts.append(f"{label} {spec.words(value)}")
        return ", ".join(parts) or "plain"


_PSMS = (3, 4, 6, 11, 1, 12, 5, 7, 13, 8, 9, 10)


@dataclass(frozen=True)
class Options(_Plain):
    """How a page is read: the engine, language(s), page layout, characters, resolution, time limit."""

    engine: str = _setting(
        registry.DEFAULT, "Engine", group="reading", choices=registry.CHOICES, names=registry.LABELS,
        help="Each engine reads some pages best (Tesseract clean scans and book pages, PP-OCR photos, receipts, "
             "screens and coloured print). The best of all reads the page with each where that changes the "
             "text, and keeps the reading that looks right (judged without the true text); it takes longer.")
    lang: str = _setting(
        "eng", "Languages", group="reading", widget="languages",
        help="The languages of the page; several at once are joined by +, as in eng+deu; auto finds the "
             "language from a first reading in English.")
    psm: int = _setting(
        3, "Page layout", group="reading", choices=_PSMS,
        names=("Automatic", "One column", "One block of text", "Scattered text", "Automatic, with orientation",
               "Scattered, with orientation", "One vertical block", "One line", "One line, as it is",
               "One word", "One word in a circle", "One character"),
        help="How the page is split into blocks and lines (Tesseract's page segmentation mode, psm).")
    oem: int = _setting(
        3, "Tesseract engine mode", group="reading", choices=(3, 1, 0, 2),
        names=("Default", "Neural network only", "Legacy only", "Legacy and neural network"),
        help="Which of Tesseract's recognisers reads (its OCR engine mode, oem); the legacy one needs data "
             "that not every installation has.")
    whitelist: str = _setting(
        "", "Only these characters", group="reading", widget="text",
        help="Read only these characters, e.g. 0123456789.,- for figures; empty allows all.")
    blacklist: str = _setting(
        "", "Never these characters", group="reading", widget="text",
        help="Characters never to read, e.g. |~ on a page with ruled lines.")
    preserve_spaces: bool = _setting(
        False, "Keep runs of spaces", group="reading", help="For tables and columns of figures.")
    dpi: int = _setting(
        0, "Resolution", group="reading", low=0, high=4800, step=1, unit="dpi", widget="number",
        help="The resolution the page is read at; 0 uses the file's own (300 when it states none).")
    timeout: float = _setting(
        60.0, "Time limit per page", group="reading", low=0.1, high=3600.0, step=1.0, unit="seconds",
        widget="number", help="A page that takes longer is stopped and reported; the others go on.")

    def describe(self, base: Options | None = None) -> str:
        """The options that differ from ``base`` (by default the defaults) in plain words ("PP-OCR, deu,
        one column, only 0123456789"); empty when none does."""
        parts = []
        for key, value in self.changes(base).items():
            spec = self.spec(key)
            if key == "lang":
                parts.append(str(value))
            elif key in ("engine", "psm"):
                parts.append(spec.name_of(value) if key == "engine" else spec.name_of(value).lower())
            elif key in ("whitelist", "blacklist"):
                parts.append(f"{'only' if key == 'whitelist' else 'never'} {value}")
            elif isinstance(value, bool):
                parts.append(spec.label.lower() if value else f"{spec.label.lower()}: off")
            else:
                parts.append(f"{spec.label.lower()} {spec.words(value)}")
        return ", ".join(parts)

    def _check(self) -> None:
        lang = self.lang.strip()
        if not lang or any(not part or not all(ch.isalnum() or ch in "_-" for ch in part) for part in lang.split("+")):
            raise SettingsError(f"language {self.lang!r} is not a language name like 'eng' or 'eng+deu'.")
        if "auto" in lang.split("+") and lang != "auto":
            raise SettingsError(f"language {self.lang!r}: auto finds the language by itself, so it stands alone.")
        object.__setattr__(self, "lang", lang)


def preset_json(settings: Settings, options: Options | None = None) -> str:
    """A preset file's text: the settings, and the reading options when given."""
    data: dict[str, Any] = {"settings": settings.to_dict()}
    if options is not None:
        data["options"] = options.to_dict()
    return json.dumps(data, indent=2) + "\n"


def parse_preset(text: str | bytes) -> tuple[Settings, Options | None]:
    """Read a preset: ``{"settings": {...}, "options": {...}}``, or a bare settings object."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
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
