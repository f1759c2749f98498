"""Whole documents and the rough edges a new user meets (issue 26), through Streamlit's AppTest: one
searchable PDF and one text of a whole file, the zip's names and order, the compare panel, the engine's
message, auto-tune's words, History's table, the accuracy's sentence."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile

import pandas as pd

import ocr
import ocr.recognition
import ocr.tuning
from ocr.settings import Options, Settings
from workbench import history, keys, nav

from .conftest import SAMPLE_TEXT, draw_page, words_of
from .test_app import download, downloads, extract, first_key, go, media, ok, png, settle, start, upload, workspaces

__all__ = ["media", "workspaces"]  # the fixtures, shared with tests/test_app.py

PAGE_LINES = [["Alpha page opens the file", "with a first short line"],
              ["Bravo page sits in the middle", "between two other pages"],
              ["Charlie page closes the file", "after all the others"]]


def three_pages() -> bytes:
    pages = [draw_page(lines, size=(900, 300)).convert("RGB") for lines in PAGE_LINES]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


def pdftotext_pages(data: bytes) -> list[str]:
    out = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return out.split("\f")[:-1]  # pdftotext ends every page with a form feed


def file_name(media, at, key: str) -> str:
    return media.stored(at.download_button(key=key)).filename


def test_a_whole_file_downloads_as_one_searchable_pdf_and_one_text(media):
    at = upload(start(), ("three pages.pdf", three_pages()))
    go(at, nav.EXTRACT)
    settle(ok(at.button(key=keys.EXTRACT_ALL).click().run()))
    second = first_key(at).rsplit(":", 1)[0] + ":1"
    at.session_state[keys.CURRENT] = second
    ok(at.run())
    read = at.session_state[keys.RESULTS][second].text
    edited = read.replace("Bravo", "Delta")
    assert edited != read
    ok(at.text_area(key=keys.TEXT).input(edited).run())

    # one page's downloads are named for the page, without the file's extension
    assert file_name(media, at, keys.download("txt")) == "three_pages-p2.txt"
    assert file_name(media, at, keys.download("pdf")) == "three_pages-p2.ocr.pdf"
    assert any("searchable .pdf carries your edits" in c.value for c in at.caption)
    assert "delta" in words_of(pdftotext_pages(download(at, media, "Searchable .pdf"))[0])

    # the whole file: every page in order, each with its own text, the edits in the text layer
    assert file_name(media, at, keys.download("file_pdf")) == "three_pages.ocr.pdf"
    assert file_name(media, at, keys.download("file_txt")) == "three_pages.txt"
    pages = pdftotext_pages(media(at.download_button(key=keys.download("file_pdf"))))
    assert [words_of(p)[0] for p in pages] == ["alpha", "delta", "charlie"]
    text = media(at.download_button(key=keys.download("file_txt"))).decode()
    assert [words_of(p)[0] for p in text.split("\f")] == ["alpha", "delta", "charlie"]

    # the zip: in page order, named as the single downloads
    names = zipfile.ZipFile(io.BytesIO(download(at, media, "Everything"))).namelist()
    assert [n for n in names if n.endswith(".txt")][:3] == ["three_pages-p1.txt", "three_pages-p2.txt",
                                                           "three_pages-p3.txt"]


def test_a_whole_file_with_pages_not_read_keeps_them_in_place(media):
    at = upload(start(), ("three.pdf", three_pages()))
    go(at, nav.EXTRACT)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    assert any("2 pages are not read yet" in c.value for c in at.caption)
    pages = pdftotext_pages(media(at.download_button(key=keys.download("file_pdf"))))
    assert len(pages) == 3 and words_of(pages[0])[0] == "alpha" and not pages[1].strip()
    assert "Searchable .pdf of all 3 pages" in downloads(at)


# -- the compare panel ---------------------------------------------------------------------------------


def test_the_engines_lines_line_up_row_by_row():
    first = "Title line\nThe quick brown fox\njumps over\nthe lazy dog\nEnd"
    other = "Title line\nThe quick brown f0x\njumps over\nextra line\nthe lazy dog\nEnd"
    rows = history.aligned({"tesseract": first, "ppocr": other})
    assert len(rows["tesseract"]) == len(rows["ppocr"])
    pairs = list(zip(rows["tesseract"], rows["ppocr"]))
    assert pairs[0] == ("  Title line", "  Title line")
    assert pairs[1] == ("- The quick brown fox", "+ The quick brown f0x")  # the changed line on its row
    assert ("", "+ extra line") in pairs and pairs[-1] == ("  End", "  End")
    # one reading all on one line: it sits on the first row, not below all the other's lines
    flat = history.aligned({"ppocr": "a\nb\nc", "tesseract": "a b c"})
    assert flat["tesseract"][0] == "+ a b c" and len(flat["ppocr"]) == len(flat["tesseract"])


def test_keeping_a_compared_reading_asks_before_replacing_edits_and_keeps_the_settings():
    at = extract()
    key = first_key(at)
    ok(at.text_area(key=keys.TEXT).input("My own text").run())
    ok(at.button(key=keys.COMPARE_RUN).click().run(timeout=240))
    diffs = [c.value for c in at.code if c.language == "diff"]
    assert len(diffs) == 2 and len(diffs[0].splitlines()) == len(diffs[1].splitlines())
    ok(at.button(key=keys.keep_reading("ppocr")).click().run())
    assert any("You edited the text of 1 page" in m.value and "Keeping PP-OCR's reading" in m.value
               for m in at.markdown)
    assert at.text_area(key=keys.TEXT).value == "My own text"  # nothing replaced yet
    ok(at.button(key=keys.REPLACE_NO).click().run())
    assert at.text_area(key=keys.TEXT).value == "My own text"
    ok(at.button(key=keys.keep_reading("ppocr")).click().run())
    ok(at.button(key=keys.REPLACE_YES).click().run())
    kept = at.session_state[keys.RESULTS][key]
    assert kept.engine == "ppocr" and at.text_area(key=keys.TEXT).value == kept.text != "My own text"
    assert not any("settings have changed" in i.value for i in at.info)
    assert [r.kind for r in at.session_state[keys.HISTORY]][-2:] == ["edited", "read"]
    # a yes is for that question only: new edits are asked about again
    ok(at.text_area(key=keys.TEXT).input("Edited again").run())
    ok(at.button(key=keys.keep_reading("tesseract")).click().run())
    assert any("Keeping Tesseract's reading" in m.value for m in at.markdown)
    assert at.text_area(key=keys.TEXT).value == "Edited again"


# -- which engine read the page --------------------------------------------------------------------------


def test_the_engine_that_read_the_page_is_said_plainly_and_named_in_the_help():
    at = extract(options=Options(engine="ppocr"))
    said = [c.value for c in at.caption if c.value.startswith("Read by")]
    assert said == ["Read by PP-OCR."]
    assert not any("PP-OCR" in w.value or "Tesseract" in w.value for w in at.warning)
    helps = {m.label: m.help for m in at.metric}
    assert helps["Mean confidence"].startswith("PP-OCR's confidence")
    assert "PP-OCR read" in helps["Read at"]
    auto = extract(options=Options(engine="auto"))
    result = auto.session_state[keys.RESULTS][first_key(auto)]
    [line] = [c.value for c in auto.caption if c.value.startswith("Read by")]
    assert line.startswith(f"Read by {ocr.registry.label(result.engine)}.") and result.note[1:] in line


def test_a_close_choice_between_engines_says_why_the_lower_score_was_kept():
    words = ocr.result.words_frame([])
    first = ocr.Result(text="a", words=words, engine="tesseract", score=174.0)
    second = ocr.Result(text="b", words=words, engine="ppocr", score=175.0)
    kept = ocr.recognition.best([first, second])
    assert kept is first
    assert "about as good" in kept.note and "first engine's is when the readings are this close" in kept.note
    clear = ocr.recognition.best([ocr.Result(text="a", words=words, engine="tesseract", score=100.0),
                                  ocr.Result(text="b", words=words, engine="ppocr", score=175.0)])
    assert clear.engine == "ppocr" and "looked more like real text (175 characters" in clear.note


# -- auto-tune's words ---------------------------------------------------------------------------------


def test_auto_tune_counts_on_across_stages_and_ends_in_plain_words():
    page = ocr.load(png(draw_page(size=(900, 300))), "page.png")[0]
    said: list[str] = []
    answer = ocr.autotune(page, effort=3.0, progress=lambda fraction, message: said.append(message),
                          options=Options(engine="tesseract"), limit_s=60)
    found = (re.search(r"\((\d+) settings? tried so far\)", message) for message in said)
    counts = [int(m.group(1)) for m in found if m]
    stages = {s.split(" (")[0] for s in said[1:-1]}
    assert len(stages) > 1 and counts == sorted(counts) and counts == list(range(1, len(counts) + 1))
    last = said[-1]
    assert last.startswith("Done: ") and "page layout 3" not in last and "chose" not in last
    assert f"({len(answer.trace)} settings tried)" in last
    assert answer.settings.describe() in last


def test_auto_tune_says_when_nothing_read_better_than_the_page_as_it_is():
    said = ocr.tuning.summary(Settings(), Options(engine="ppocr", psm=3), Options(engine="auto"), plain=True,
                              cut_short=False, count=12)
    assert said == ("Done: no clean-up read this page better than the page as it is (12 settings tried), so "
                    "the settings stay plain, read with PP-OCR.")
    better = ocr.tuning.summary(Settings(threshold="otsu"), Options(psm=6), Options(), plain=False,
                                cut_short=False, count=1)
    assert better == ("Done: the best reading came with black & white: level found for the page, read with "
                      "one block of text (1 setting tried).")


def test_the_trace_names_each_candidates_engine_and_the_end_is_said(monkeypatch):
    def quick(page, *, progress, options, engine, stop=None, limit_s=None):
        progress(1.0, "Done: no clean-up read this page better than the page as it is (2 settings tried), "
                      "so the settings stay plain.")
        trace = pd.DataFrame({"candidate": [0, 1], "stage": ["plain", "plain"], "engine": ["tesseract", "ppocr"],
                              "settings": ["plain", "plain"], "psm": [3, 3], "score": [0.9, 0.5],
                              "seconds": [0.1, 0.1], "chosen": [True, False]})
        return ocr.Tuning(Settings(), options, trace)

    monkeypatch.setattr(ocr, "autotune", quick)
    at = upload(start(), ("page.png", png(draw_page())))
    go(at, nav.TUNE)
    at = ok(at.button(key=keys.AUTO_TUNE).click().run())
    job = at.session_state.get(keys.TUNING)
    if job is not None:
        job.thread.join(30)
        ok(at.run())
    trace = next(d.value for d in at.dataframe if "candidate" in d.value.columns)
    assert list(trace["engine"]) == ["Tesseract", "PP-OCR"]
    assert any("Nothing read this page better than the page as it is" in c.value for c in at.caption)
    assert any(i.value.startswith("Done: no clean-up read this page better") for i in at.info)


# -- History and the accuracy ----------------------------------------------------------------------------


def test_history_names_settings_plainly_and_one_run_is_not_compared_with_itself():
    at = extract()
    go(at, nav.HISTORY)
    assert not at.code and not at.selectbox  # nothing to compare one run with
    assert any("There is one run so far" in i.value for i in at.info)
    go(at, nav.EXTRACT)
    at.session_state[keys.SETTINGS] = Settings(threshold="otsu", scale=1.5, deskew=True)
    ok(at.button(key=keys.EXTRACT_ONE).click().run())
    go(at, nav.HISTORY)
    differences = at.dataframe[1].value
    shown = {row["setting"]: (row["run 1"], row["run 2"]) for row in differences.to_dict("records")}
    assert shown == {"Resize": ("×1", "×1.5"), "Straighten a slanted page": ("off", "on"),
                     "Black & white": ("Off: keep the greys", "Level found for the page")}
    assert not any(name in shown for name in ("scale", "threshold", "deskew"))
    assert len(at.code[0].value.splitlines()) == len(at.code[1].value.splitlines())  # rows line up


def test_a_true_text_much_shorter_than_the_reading_says_why_the_rate_is_over_100():
    at = extract()
    key = first_key(at)
    ok(at.text_area(key=keys.truth(key)).input("The").run())
    rate = next(m for m in at.metric if m.label.startswith("Character error rate"))
    assert float(rate.value[:-1]) > 100
    assert any(c.value.startswith("Over 100%: the reading has") for c in at.caption)
    ok(at.text_area(key=keys.truth(key)).input("\n".join(SAMPLE_TEXT)).run())
    assert not any(c.value.startswith("Over 100%") for c in at.caption)
