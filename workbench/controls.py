"""The Tune page's controls, each made from its field's :class:`ocr.settings.Spec`: the label (with the
unit), the help, the choices and their plain names, a slider's bounds and step, the group it sits in, and
the setting it depends on (shown only when that setting has one of the values it ``needs``). Nothing is
re-declared here: a new field in ``ocr.Settings`` or ``ocr.Options`` gets its control.

The settings live under plain session-state keys; :func:`push` moves the controls to them when code
changed them (a preset, a reset, auto-tune, a restored run) or a control is new on this visit, and
:func:`pull` takes what the person moved back into the settings. A setting whose control was not moved
keeps its exact value (auto-tune's scale of 1.37 stays 1.37 on a slider that moves in steps of 0.05).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import streamlit as st

import ocr
from ocr import overlay
from ocr.language import AUTO as AUTO_LANGUAGE
from ocr.settings import GROUPS, Spec

from . import defaults, keys, url

log = logging.getLogger(__name__)

CROP_STEP = 0.5  # percent


@dataclass(frozen=True)
class Control:
    """One field's control."""

    field: str
    spec: Spec
    kind: str  # "crop", "segmented", "toggle", "select", "languages", "text", "number" or "slider"
    number: type | None  # int or float for numbers (the control's value type), else None
    option: bool  # a field of ocr.Options (else of ocr.Settings)

    @property
    def label(self) -> str:
        """The label, with the unit of a number: "Resize (×)", "Shadow size (pixels)"."""
        unit = self.spec.unit if self.kind in ("slider", "number") else ""
        return f"{self.spec.label} ({unit})" if unit else self.spec.label

    @property
    def help(self) -> str | None:
        return self.spec.help or None

    @property
    def format(self) -> str | None:
        """A float shown with as many decimals as its step has ("%.2f" for 0.05, "%.0f" for 1.0)."""
        if self.number is not float or not self.spec.step:
            return None
        return f"%.{max(0, -math.floor(math.log10(self.spec.step) + 1e-9))}f"


def _control(field: str, spec: Spec, default: Any, option: bool) -> Control:
    """A field's control: the spec's widget hint, else the type and spec decide."""
    if spec.widget:
        kind = spec.widget
    elif isinstance(default, bool):
        kind = "toggle"
    elif spec.choices:
        kind = "select"
    elif spec.low is not None:
        kind = "slider"
    else:
        kind = "text"
    number = type(default) if kind in ("slider", "number") else None
    return Control(field=field, spec=spec, kind=kind, number=number, option=option)


CONTROLS: tuple[Control, ...] = tuple(
    [_control(f, spec, getattr(defaults.SETTINGS, f), False) for f, spec in ocr.Settings.specs()]
    + [_control(f, spec, getattr(defaults.OPTIONS, f), True) for f, spec in ocr.Options.specs()])
BY_FIELD = {c.field: c for c in CONTROLS}


def groups() -> list[tuple[str, str, list[Control]]]:
    """(group key, title, its controls in the order of the fields), groups in display order."""
    return [(group, title, [c for c in CONTROLS if c.spec.group == group]) for group, title in GROUPS.items()]


# -- values: settings <-> controls ---------------------------------------------------------------------


def step_scale() -> int:
    """How many of a pixel setting's steps one slider step moves on the page shown (1 on a page the
    preview shows at full size; more on a large photo, so that every step changes the preview)."""
    found = st.session_state.get(keys.STEP_SCALE, 1)
    return int(found) if isinstance(found, int) and found > 0 else 1


def set_step_scale(preview_factor: float) -> None:
    """Size the pixel sliders' steps for a preview drawn at ``preview_factor`` of the page's pixels: a
    step of n pixels moves the preview by n × factor pixels, so it must be at least one."""
    scale = max(1, math.ceil(1 / max(preview_factor, 1e-6) - 1e-9))
    if st.session_state.get(keys.STEP_SCALE, scale) != scale:
        # a new step makes the pixel sliders new widgets to Streamlit, which start at their lowest value
        # unless given one: forgotten here, push() gives them their settings again
        for c in CONTROLS:
            if _in_pixels(c):
                st.session_state.pop(keys.setting(c.field), None)
    st.session_state[keys.STEP_SCALE] = scale


def step(c: Control) -> float | None:
    """The step a control moves by: the spec's, times :func:`step_scale` for sizes in pixels."""
    return c.spec.step * step_scale() if c.spec.step and _in_pixels(c) else c.spec.step


def _in_pixels(c: Control) -> bool:
    """Whether ``c`` is a slider of a size in pixels (its steps follow the page's scale)."""
    return c.kind == "slider" and c.spec.unit == "pixels"


def shown(c: Control, value: Any) -> Any:
    """The value a field's control shows for a setting's value (not for the crop): a slider shows the
    setting itself, within its bounds, even off its steps (the steps of a pixel slider follow the page's
    scale; a slider that showed the nearest step showed an ink shaping size of 1 for a setting of 2)."""
    if c.kind == "slider":
        low, high = c.spec.low, c.spec.high
        assert low is not None and high is not None and c.number is not None
        clamped = min(max(value, low), high)
        return round(float(clamped), 6) if c.number is float else round(clamped)
    if c.kind == "languages":
        return value.split("+")
    return value


def widget_values(s: ocr.Settings, o: ocr.Options, size: tuple[int, int]) -> dict[str, Any]:
    """Every control's value for these settings, by the field its key is made from (the crop is two
    controls, ``keys.CROP_X`` and ``keys.CROP_Y``: percent ranges of a page of ``size``)."""
    values: dict[str, Any] = {}
    for c in CONTROLS:
        value = getattr(o if c.option else s, c.field)
        if c.kind == "crop":
            values[keys.CROP_X], values[keys.CROP_Y] = overlay.crop_percent(size, value, CROP_STEP)
        else:
            values[c.field] = shown(c, value)
    return values


def _plain(value: Any) -> Any:
    """Lists (how Streamlit keeps a range slider's or a multiselect's value) as tuples, to compare."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _moved_keys() -> set[str]:
    """The control keys the person moved since the settings last took the controls' values."""
    found: set[str] = st.session_state.setdefault(keys.MOVED, set())
    return found


def _shown() -> dict[str, Any]:
    """Control key -> the value the code last gave that control, or last took from it."""
    found: dict[str, Any] = st.session_state.setdefault(keys.SHOWN, {})
    return found


def mark_moved(key: str) -> None:
    """``on_change`` of every control: Streamlit calls it when the person changed that control in the
    browser, and only then."""
    _moved_keys().add(key)


def push(size: tuple[int, int]) -> None:
    """Set every control the person did not just move to the settings: all of them when code changed the
    settings (or a control is new on this visit), and any whose value differs from what the settings
    show, so a control never shows a value the settings do not hold (a control Streamlit makes anew
    starts at its own default, e.g. a slider's lowest value)."""
    ss, shown_ = st.session_state, _shown()
    force = ss.pop(keys.PUSH, False)
    for field, value in widget_values(url.settings(), url.options(), size).items():
        key = keys.setting(field)
        if force or key not in ss or _plain(ss[key]) != _plain(value):
            ss[key] = shown_[key] = value


def widget_default(field: str) -> Any:
    """The value a field's control starts at when Streamlit makes it anew without its state (the controls
    declare no value of their own: the settings give it through session state)."""
    if field in (keys.CROP_X, keys.CROP_Y):
        return (0.0, 100.0)
    c = BY_FIELD[field]
    if c.kind in ("slider", "number"):
        return c.number(c.spec.low) if c.number is not None and c.spec.low is not None else 0
    if c.kind == "toggle":
        return False
    if c.kind in ("select",):
        return c.spec.choices[0]
    if c.kind == "languages":
        return ()
    if c.kind == "segmented":
        return None
    return ""


def moved(size: tuple[int, int]) -> dict[str, Any]:
    """The controls the person moved: field -> the control's value. A control counts when its
    ``on_change`` fired and its value is not the one the code last gave it (the browser reports a value
    set by the code as a change on the next interaction), never because its value merely differs from
    the settings. A person moves one control at a time: when several report a change at once, those that
    report their own starting value were made anew by the browser, not moved (this once set the ink
    shaping size to 1, dropped the threshold and emptied the languages by themselves), and are put back."""
    ss, shown_ = st.session_state, _shown()
    marked = _moved_keys()
    changes = {}
    for field in widget_values(url.settings(), url.options(), size):
        key = keys.setting(field)
        if key in marked and key in ss and (key not in shown_ or _plain(ss[key]) != _plain(shown_[key])):
            changes[field] = ss[key]
    marked.clear()
    if len(changes) > 1:
        reset = [f for f, v in changes.items() if _plain(v) == _plain(widget_default(f))]
        if reset:
            log.info("controls made anew at their defaults, not moved: %s", ", ".join(reset))
            for field in reset:
                del changes[field]
    for field, value in changes.items():
        shown_[keys.setting(field)] = value
    return changes


def pull(size: tuple[int, int]) -> str | None:
    """Settings from the controls the person moved (run before the controls are drawn, so everything the
    page shows is of the new settings); one sentence when they do not make sense, the control put back."""
    changes = moved(size)
    if not changes:
        return None
    problem = None
    if keys.CROP_X in changes or keys.CROP_Y in changes:
        xs, ys = overlay.crop_percent(size, url.settings().crop, CROP_STEP)
        xs, ys = tuple(changes.pop(keys.CROP_X, xs)), tuple(changes.pop(keys.CROP_Y, ys))
        changes["crop"] = overlay.crop_box(size, xs, ys)
    if "lang" in changes:
        if changes["lang"]:
            changes["lang"] = chosen_languages(list(changes["lang"]), url.options().lang)
        else:
            del changes["lang"]  # push() puts the control back to the languages that stand
            problem = "Choose at least one language; the last choice stands."
    try:
        new = url.settings().replace(**{f: v for f, v in changes.items() if not BY_FIELD[f].option})
        new_options = url.options().replace(**{f: v for f, v in changes.items() if BY_FIELD[f].option})
    except ocr.SettingsError as e:  # push() puts the controls back to the settings that stand
        return str(e)
    st.session_state[keys.SLIDING] = _sliding(changes, url.settings())
    st.session_state[keys.SETTINGS], st.session_state[keys.OPTIONS] = new, new_options
    url.write()
    return problem


# -- the controls ----------------------------------------------------------------------------------------


def needed(c: Control, values: dict[str, Any]) -> bool:
    """Whether the control matters with the values shown (``values``: the controls drawn so far, field ->
    value; a field not among them counts with its setting's value): its ``needs`` holds, or it has none,
    and an option only some engines understand shows only when one of them is chosen."""
    if c.option:
        engine = values["engine"] if "engine" in values else url.options().engine
        if not ocr.registry.understands(c.field, engine):
            return False
    if c.spec.needs is None:
        return True
    field, wanted = c.spec.needs
    if field not in values:
        values = {field: getattr(url.options() if BY_FIELD[field].option else url.settings(), field)}
    return values[field] in wanted


COMMON_LANGUAGES = ("eng", "deu", "fra", "spa", "ita", "por", "nld")  # named when missing, with their package


def languages(current: str) -> list[str]:
    """The languages to offer: finding it by itself, those installed (orientation data is not a
    language), and those chosen."""
    installed = [lang for lang in ocr.languages() if lang != "osd"] or ["eng"]
    return [AUTO_LANGUAGE, *installed] + [lang for lang in current.split("+") if lang not in installed
                                          and lang != AUTO_LANGUAGE]


def language_label(lang: str) -> str:
    """A language as the control offers it: its code, or "Find by itself" for ``auto``."""
    return "Find by itself" if lang == AUTO_LANGUAGE else lang


def chosen_languages(chosen: list[str], before: str) -> str:
    """The ``lang`` a change of the languages control asks for: "Find by itself" stands alone, so the
    choice just made wins (choosing a language after it overrules it; choosing it after languages
    replaces them)."""
    if AUTO_LANGUAGE in chosen and len(chosen) > 1:
        chosen = [AUTO_LANGUAGE] if before != AUTO_LANGUAGE else [c for c in chosen if c != AUTO_LANGUAGE]
    return "+".join(chosen)


def ahead_field(c: Control) -> bool:
    """Whether the pictures of ``c``'s next moves can be made ahead of them: a clean-up slider of one
    value (its next step either way) or a clean-up switch (its other side)."""
    return c.kind in ("slider", "toggle") and not c.option


def _sliding(changes: dict[str, Any], before: ocr.Settings) -> str | None:
    """The field when the one change is a clean-up slider or switch moved, else None."""
    if len(changes) != 1:
        return None
    field, value = next(iter(changes.items()))
    c = BY_FIELD.get(field)
    if c is None or not ahead_field(c) or value == getattr(before, field):
        return None
    return field


def in_hand() -> str | None:
    """The clean-up slider or switch in the person's hand: the one moved last, or the one the pointer or
    the keyboard focus came to since (:func:`take_hand`); None after a move of anything else."""
    found = st.session_state.get(keys.SLIDING)
    return found if isinstance(found, str) and found in BY_FIELD else None


def take_hand(key: Any) -> str | None:
    """The browser says the person's hand came to the control ``key`` (the pointer on it, or the keyboard
    focus): when that is a clean-up slider or switch, it is the one in hand from now on. Its field, else
    None (a key the page does not know, or of another control, changes nothing)."""
    found = next((c for c in CONTROLS if keys.setting(c.field) == key and ahead_field(c)), None)
    if found is None:
        return None
    st.session_state[keys.SLIDING] = found.field
    return found.field


def steps_beside(s: ocr.Settings, field: str) -> list[Any]:
    """The values the control of ``field`` takes on its next move from the setting of ``s``: a slider's
    next step down and up (the step it moves by on this page), those within its bounds; a switch's other
    side. The pictures a person's next press on it asks for."""
    c = BY_FIELD[field]
    if c.kind == "toggle":
        return [not getattr(s, field)]
    moves = step(c)
    assert c.number is not None and c.spec.low is not None and c.spec.high is not None
    if not moves:
        return []
    found = []
    for direction in (-1, 1):
        value = c.number(getattr(s, field) + direction * moves)
        if c.number is float:
            value = round(value, 6)  # 1.1 + 0.05 is 1.1500000000000001; the slider sends 1.15
        if c.spec.low <= value <= c.spec.high:
            found.append(value)
    return found


def missing_note() -> str | None:
    """One line naming common languages that are not installed and the package that brings each."""
    have = set(ocr.languages())
    missing = [f"{lang} ({ocr.language_package(lang)})" for lang in COMMON_LANGUAGES if lang not in have]
    return "Not installed here: " + ", ".join(missing) + "." if missing else None


def _crop(c: Control, disabled: bool) -> None:
    st.caption("Drag a box on the original picture to crop, or set it here:")
    for axis, across in ((keys.CROP_X, "left to right"), (keys.CROP_Y, "top to bottom")):
        st.slider(f"{c.spec.label}: {across} (%)", 0.0, 100.0, step=CROP_STEP, key=keys.setting(axis), help=c.help,
                  disabled=disabled, on_change=mark_moved, args=(keys.setting(axis),))


def _slider(c: Control, disabled: bool) -> Any:
    assert c.number is not None and c.spec.low is not None and c.spec.high is not None
    moves = step(c)
    shown_step = c.number(moves) if moves else None
    help_ = c.help
    if moves and c.spec.step and moves != c.spec.step:
        help_ = (f"{help_} " if help_ else "") + (
            f"On this large page a step is {moves:g} pixels, so that every step shows in the preview.")
    return st.slider(c.label, c.number(c.spec.low), c.number(c.spec.high), step=shown_step, format=c.format,
                     key=keys.setting(c.field), help=help_, disabled=disabled, on_change=mark_moved,
                     args=(keys.setting(c.field),))


def _number(c: Control, disabled: bool) -> Any:
    assert c.number is not None
    step = c.number(c.spec.step) if c.spec.step else None
    low = None if c.spec.low is None else c.number(c.spec.low)
    high = None if c.spec.high is None else c.number(c.spec.high)
    return st.number_input(c.label, low, high, step=step, format=c.format, key=keys.setting(c.field), help=c.help,
                           disabled=disabled, on_change=mark_moved, args=(keys.setting(c.field),))


def render(c: Control, disabled: bool = False) -> Any:
    """Draw one control; returns its value."""
    key = keys.setting(c.field)
    if c.kind == "crop":
        return _crop(c, disabled)
    if c.kind == "slider":
        return _slider(c, disabled)
    if c.kind == "number":
        return _number(c, disabled)
    if c.kind == "toggle":
        return st.toggle(c.label, key=key, help=c.help, disabled=disabled, on_change=mark_moved, args=(key,))
    if c.kind == "segmented":
        return st.segmented_control(c.label, list(c.spec.choices), format_func=c.spec.name_of, key=key,
                                    required=True, help=c.help, disabled=disabled, on_change=mark_moved, args=(key,))
    if c.kind == "select":
        return st.selectbox(c.label, list(c.spec.choices), format_func=c.spec.name_of, key=key, help=c.help,
                            disabled=disabled, on_change=mark_moved, args=(key,))
    if c.kind == "languages":
        chosen = st.multiselect(c.label, languages(url.options().lang), format_func=language_label, key=key,
                                help=c.help, disabled=disabled, on_change=mark_moved, args=(key,))
        if note := missing_note():
            st.caption(note)
        return chosen
    return st.text_input(c.label, key=key, help=c.help, disabled=disabled, on_change=mark_moved, args=(key,))


def render_group(controls: list[Control], disabled: bool = False) -> None:
    """A group's controls in the order of the fields; a control whose ``needs`` does not hold is left out."""
    values: dict[str, Any] = {}
    for c in controls:
        if needed(c, values):
            values[c.field] = render(c, disabled)


def changed(members: list[Control]) -> list[str]:
    """The controls among ``members`` whose setting is not the default, as "label: value" in plain words."""
    s, o = url.settings(), url.options()
    out = []
    for c in members:
        value = getattr(o if c.option else s, c.field)
        if value == getattr(defaults.OPTIONS if c.option else defaults.SETTINGS, c.field):
            continue
        out.append(f"{c.spec.label}: {c.spec.words(value)}")
    return out
