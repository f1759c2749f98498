"""The settings the controls show, and the address bar that mirrors them, so that a link reproduces them.

The settings live under plain session-state keys (``SETTINGS``, ``OPTIONS``); the query string is
written from them after every change and read once, on a session's first run.
"""

from __future__ import annotations

import json

import streamlit as st

import ocr

from . import keys


def start() -> None:
    """On a session's first run, the settings from the link (what cannot be used is said once); the
    defaults otherwise."""
    ss = st.session_state
    if not ss.get(keys.URL_READ):
        ss[keys.URL_READ] = True
        found, found_options, problems = from_params(st.query_params.to_dict())
        ss[keys.SETTINGS], ss[keys.OPTIONS], ss[keys.PUSH] = found, found_options, True
        if problems:
            ss[keys.NOTICE].append(("Some settings in the link could not be used; the defaults stand in for them.",
                                    "\n".join(problems)))
    ss.setdefault(keys.SETTINGS, ocr.Settings())
    ss.setdefault(keys.OPTIONS, ocr.Options())


def from_params(params: dict[str, str]) -> tuple[ocr.Settings, ocr.Options, list[str]]:
    """Settings and options from URL query parameters; a parameter that does not make sense is left out
    and reported (one sentence each)."""
    problems: list[str] = []
    kept: dict[str, str] = {}
    for key, value in params.items():
        try:
            ocr.Settings.from_strings({**kept, key: value})
            ocr.Options.from_strings({**kept, key: value})
            kept[key] = value
        except ocr.SettingsError as e:
            problems.append(str(e))
    return ocr.Settings.from_strings(kept), ocr.Options.from_strings(kept), problems


def settings() -> ocr.Settings:
    """The settings the controls show."""
    found: ocr.Settings = st.session_state[keys.SETTINGS]
    return found


def options() -> ocr.Options:
    """The reading options the controls show."""
    found: ocr.Options = st.session_state[keys.OPTIONS]
    return found


def change(new_settings: ocr.Settings, new_options: ocr.Options | None = None, *, push: bool = True) -> None:
    """Change the settings from code (a preset, a reset, a restored run, auto-tune); with ``push`` the
    controls are moved to them on the Tune page's next run."""
    st.session_state[keys.SETTINGS] = new_settings
    if new_options is not None:
        st.session_state[keys.OPTIONS] = new_options
    st.session_state[keys.PUSH] = push
    write()


def write() -> None:
    """Keep the address bar's query string equal to the settings (only the fields that differ from the
    defaults), so that a link reproduces them."""
    want = {**settings().to_strings(), **options().to_strings()}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def settings_key(s: ocr.Settings) -> str:
    """A settings object as the text a cache keys on."""
    return json.dumps(s.to_dict(), sort_keys=True)
