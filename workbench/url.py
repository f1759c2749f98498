"""The settings the controls show, and the address bar that mirrors them, so that a link reproduces them.

The settings live under plain session-state keys (``SETTINGS``, ``OPTIONS``); the query string is
written from them after every change and read once, on a session's first run. The query string also
carries the workspace's id (``ws``, :mod:`workbench.workspace`); a link without settings in it keeps the
settings the workspace had.
"""

from __future__ import annotations

import json

import streamlit as st

import ocr

from . import defaults, keys


def start() -> None:
    """On a session's first run, the settings from the link (what cannot be used is said once); the
    defaults otherwise."""
    ss = st.session_state
    if not ss.get(keys.URL_READ):
        ss[keys.URL_READ] = True
        params = {k: v for k, v in st.query_params.to_dict().items() if k != keys.WS_PARAM}
        found, found_options, problems = from_params(params)
        if params or keys.SETTINGS not in ss:  # a link's settings win over the workspace's
            ss[keys.SETTINGS], ss[keys.OPTIONS] = found, found_options
        ss[keys.PUSH] = True
        if problems:
            ss[keys.NOTICE].append(("Some settings in the link could not be used; the defaults stand in for them.",
                                    "\n".join(problems)))
    ss.setdefault(keys.SETTINGS, defaults.SETTINGS)
    ss.setdefault(keys.OPTIONS, defaults.OPTIONS)


def from_params(params: dict[str, str]) -> tuple[ocr.Settings, ocr.Options, list[str]]:
    """Settings and options from URL query parameters; a parameter that does not make sense is left out
    and reported (one sentence each)."""
    problems: list[str] = []
    kept: dict[str, str] = {}
    for key, value in params.items():
        try:
            ocr.Settings.from_strings({**kept, key: value})
            ocr.Options.from_strings({**kept, key: value})
        except ocr.SettingsError as e:
            problems.append(str(e))
            continue
        if key == "lang" and (missing := missing_languages(value)):
            problems += [not_installed(lang) for lang in missing]
            continue
        kept[key] = value
    reading = {k: v for k, v in kept.items() if k in dict(ocr.Options.specs())}
    return ocr.Settings.from_strings(kept), defaults.OPTIONS.replace(**reading), problems


def missing_languages(lang: str) -> list[str]:
    """The languages of ``lang`` ("eng+deu") whose data is not installed."""
    have = set(ocr.languages())
    return [part for part in lang.split("+") if part not in have]


def not_installed(lang: str) -> str:
    """One sentence naming a missing language and the package that brings it."""
    return f"The language {lang!r} is not installed: the package {ocr.language_package(lang)} brings it."


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
    want = {**settings().to_strings(defaults.SETTINGS), **options().to_strings(defaults.OPTIONS)}
    if keys.WS in st.session_state:
        want[keys.WS_PARAM] = st.session_state[keys.WS]
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def settings_key(s: ocr.Settings) -> str:
    """A settings object as the text a cache keys on."""
    return json.dumps(s.to_dict(), sort_keys=True)


def settings_link() -> str:
    """A link to this page with the settings only, without the workspace's id: to share the settings, not
    the files and texts (whoever has the id has the workspace)."""
    from urllib.parse import urlencode, urlsplit, urlunsplit

    query = urlencode({**settings().to_strings(defaults.SETTINGS), **options().to_strings(defaults.OPTIONS)})
    try:
        here = urlsplit(st.context.url or "")
    except Exception:  # no browser behind this session (a test): the query alone
        return f"?{query}" if query else "?"
    return urlunsplit(here._replace(query=query, fragment="")) if here.netloc else f"?{query}"
