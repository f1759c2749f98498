"""Language by itself (``lang="auto"``): finding it from text, reading again in it, judging every
engine's reading in it, and the command line's ``--lang auto``. Pages are drawn here with DejaVu, in
text written for these tests (proverbs, and sentences about them), never tuned on elsewhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ocr
from ocr import judge, language
from ocr.errors import SettingsError
from ocr.metrics import cer

from .conftest import FONT, SERIF, draw_page

TEXTS = {
    "fra": ["Qui vole un œuf vole un bœuf, dit le proverbe.", "À cœur vaillant rien d'impossible, même en été.",
            "Petit à petit, l'oiseau fait son nid près de la rivière.",
            "Il ne faut pas vendre la peau de l'ours avant de l'avoir tué."],
    "deu": ["Übung macht den Meister, sagt man bei uns.", "Wer früh aufsteht, dem gehört die ganze Welt.",
            "Die Straße führt über die alte Brücke zum Dorf.",
            "Müßiggang ist aller Laster Anfang, sagt die Großmutter."],
    "spa": ["Más vale pájaro en mano que ciento volando.", "El niño pequeño comió jamón después de la reunión.",
            "A quien madruga, Dios le ayuda, decía mi abuela.", "No por mucho madrugar amanece más temprano, señor."],
    "por": ["Água mole em pedra dura tanto bate até que fura.", "A educação é a lição mais importante da nação.",
            "Quem não tem cão caça com gato, diz o avô.", "Devagar se vai ao longe, e o coração agradece."],
    "eng": ["A stitch in time saves nine, as my aunt says.", "Every cloud has a silver lining after the storm.",
            "The early bird catches the worm near the barn.", "Actions speak louder than words on a busy morning."],
}


def page(lang: str, font: str = SERIF) -> np.ndarray:
    return np.asarray(draw_page(TEXTS[lang], size=(1400, 400), font_size=38, font=font))


def truth(lang: str) -> str:
    return "\n".join(TEXTS[lang])


# -- finding -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", list(TEXTS))
def test_the_language_of_a_few_sentences_is_found(lang):
    assert language.find(" ".join(TEXTS[lang])) == lang


def test_the_language_is_found_from_a_reading_that_lost_its_accents():
    assert language.find(judge.fold(" ".join(TEXTS["fra"]))) == "fra"
    assert language.find(judge.fold(" ".join(TEXTS["por"]))) == "por"


def test_too_little_text_finds_nothing_and_reads_english():
    assert language.find("Le chat") == ""
    assert language.resolve("Le chat", ["eng", "fra"]).lang == "eng"
    assert "Too little text" in language.resolve("", ["eng"]).note


def test_a_language_found_reads_with_english_and_one_not_installed_is_said():
    text = " ".join(TEXTS["deu"])
    assert language.resolve(text, ["eng", "deu"]).lang == "deu+eng"
    missing = language.resolve(text, ["eng", "fra"])
    assert missing.lang == "eng"
    assert missing.warning == "The page looks German, but Tesseract's German is not installed: read as English."


def test_auto_stands_alone_among_languages():
    assert ocr.Options(lang="auto").lang == "auto"
    with pytest.raises(SettingsError):
        ocr.Options(lang="auto+deu")


# -- judging -------------------------------------------------------------------------------------------


def words(text: str) -> pd.DataFrame:
    tokens = text.split()
    return pd.DataFrame({"text": tokens, "conf": [90.0] * len(tokens)})


@pytest.mark.parametrize("lang", ["fra", "deu", "spa", "por"])
@pytest.mark.parametrize("engine", ["tesseract", "ppocr"])
def test_a_reading_that_drops_the_accents_scores_worse(lang, engine):
    text = " ".join(TEXTS[lang])
    kept = judge.score(words(text), f"{lang}+eng", engine=engine).score
    dropped = judge.score(words(judge.fold(text)), f"{lang}+eng", engine=engine).score
    assert kept > dropped + 5


def test_english_is_judged_as_before():
    """Accents count only in the languages found: English's dictionary is judged as it was."""
    assert judge.accented("eng") == frozenset()
    assert "ete" in judge.accented("fra+eng")


# -- reading -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def installed() -> list[str]:
    have = ocr.languages()
    return [lang for lang in TEXTS if lang in have]


@pytest.mark.parametrize("lang", ["fra", "deu", "spa", "por"])
def test_auto_reads_a_page_as_well_as_its_language_given(lang, installed):
    if lang not in installed:
        pytest.skip(f"Tesseract's {lang} is not installed")
    image = page(lang)
    given = ocr.recognize(image, ocr.Options(engine="auto", lang=lang), dpi=300)
    found = ocr.recognize(image, ocr.Options(engine="auto", lang="auto"), dpi=300)
    assert found.language == lang
    assert found.options.lang == f"{lang}+eng"
    assert found.options.engine == "auto"
    assert language.name(lang) in found.note
    assert found.score is not None
    assert cer(truth(lang), found.text) <= cer(truth(lang), given.text) + 0.005
    assert cer(truth(lang), found.text) < cer(truth(lang), ocr.recognize(image, lang="eng", dpi=300).text)


def test_auto_reads_an_english_page_as_english(installed):
    image = page("eng", FONT)
    given = ocr.recognize(image, ocr.Options(engine="auto", lang="eng"), dpi=300)
    found = ocr.recognize(image, ocr.Options(engine="auto", lang="auto"), dpi=300)
    assert found.language == "eng" and found.options.lang == "eng"
    assert cer(truth("eng"), found.text) <= cer(truth("eng"), given.text) + 0.002


def test_one_engine_reads_again_in_the_language_found(installed):
    if "fra" not in installed:
        pytest.skip("Tesseract's French is not installed")
    result = ocr.recognize(page("fra"), lang="auto", dpi=300)
    assert result.engine == "tesseract" and result.options.lang == "fra+eng" and result.language == "fra"
    assert "read in English first" in result.timings
    assert "é" in result.text and "à" in result.text


def test_ppocr_is_judged_in_the_language_found():
    result = ocr.recognize(page("fra"), ocr.Options(engine="ppocr", lang="auto"), dpi=300)
    assert result.engine == "ppocr" and result.language == "fra" and result.options.lang == "fra+eng"


def test_a_language_found_but_not_installed_is_said_once_and_read_as_english(monkeypatch):
    from dataclasses import replace

    from ocr.engines import registry

    registry.engines()  # loaded, so the English-only entry below is not loaded over
    monkeypatch.setitem(registry._ENGINES, "tesseract", replace(registry.get("tesseract"), languages=lambda: ["eng"]))
    result = ocr.recognize(page("deu"), ocr.Options(engine="auto", lang="auto"), dpi=300)
    said = "The page looks German, but Tesseract's German is not installed: read as English."
    assert result.warnings.count(said) == 1
    assert result.options.lang == "eng" and result.language == "deu"


def test_the_command_line_reads_with_lang_auto(tmp_path, capsys, installed):
    if "fra" not in installed:
        pytest.skip("Tesseract's French is not installed")
    from ocr.cli import main

    path = tmp_path / "fr.png"
    draw_page(TEXTS["fra"], size=(1400, 400), font_size=38, font=SERIF).save(path)
    assert main(["--lang", "auto", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cœur" in out or "été" in out


def test_a_page_with_too_little_text_reads_as_english_and_says_so():
    image = np.asarray(draw_page(["Le 12 mai"], size=(600, 120), font_size=38, font=SERIF))
    result = ocr.recognize(image, ocr.Options(engine="auto", lang="auto"), dpi=300)
    assert result.language == language.UNSURE and result.options.lang == "eng"
    assert result.asked.lang == "auto" and result.asked.engine == "auto"
    assert "Too little text" in result.note and not result.warnings
