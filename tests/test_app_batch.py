"""Extract all as a job on the server: a reload finds it going on, Cancel stops it, a restart offers to
finish it. The reading is held page by page (a gate in ``ocr.read_chosen``'s progress), so each state is
seen for certain, whatever the machine's speed."""

from __future__ import annotations

import threading

import pytest

import ocr
from workbench import batches, keys, nav
from workbench.jobs import RUNNING

from .conftest import pdf_of, until
from .test_app import go, ok, settle, start, upload

WORDS = ["Harbour lights glow", "Copper kettles whistle", "Quiet meadows bloom", "Granite bridges span",
         "Velvet curtains fall"]


class Gate:
    """Lets the job's pages finish one at a time, when the test says so."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.passes = threading.Semaphore(0)
        self.done = 0
        real = ocr.read_chosen

        def gated(chosen, settings, options, *, engine, progress, scheduler):
            def held(done, total, outcome):
                self.passes.acquire()
                self.done += 1
                progress(done, total, outcome)

            return real(chosen, settings, options, engine=engine, progress=held, scheduler=scheduler)

        monkeypatch.setattr(ocr, "read_chosen", gated)

    def let(self, pages: int) -> None:
        for _ in range(pages):
            self.passes.release()


def progress_text(at) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def opened(pages: int = 5):
    at = upload(start(), ("five.pdf", pdf_of(WORDS[:pages])))
    return go(at, nav.EXTRACT)


def test_a_reload_finds_the_batch_going_on_and_its_pages_arrive(monkeypatch):
    gate = Gate(monkeypatch)
    at = ok(opened().button(key=keys.EXTRACT_ALL).click().run())
    gate.let(2)
    until(lambda: gate.done == 2, "two pages were not read")
    again = ok(start(ws=at.session_state[keys.WS]))  # the same workspace in a new tab (a reload)
    again = go(again, nav.EXTRACT)
    until(lambda: "2 of 5 pages read" in progress_text(ok(again.run())), "the new tab did not show the batch")
    assert again.button(key=keys.EXTRACT_ALL).disabled  # one batch at a time
    gate.let(3)
    until(lambda: len(ok(again.run()).session_state[keys.RESULTS]) == 5, "the pages did not reach the new tab")
    texts = sorted(r.text.strip() for r in again.session_state[keys.RESULTS].values())
    assert texts == sorted(WORDS)


def test_cancel_stops_the_batch_and_says_what_was_left(monkeypatch):
    gate = Gate(monkeypatch)
    at = ok(opened().button(key=keys.EXTRACT_ALL).click().run())
    gate.let(1)
    until(lambda: "1 of 5 pages read" in progress_text(ok(at.run())), "the first page did not show")
    ok(at.button(key=keys.BATCH_CANCEL).click().run())
    gate.let(5)  # the page being read may finish; nothing after it starts
    settle(at)
    label = [s.label for s in at.get("status")]
    assert len(label) == 1 and label[0].startswith("Read ") and "cancelled" in label[0], label
    assert 1 <= len(at.session_state[keys.RESULTS]) < 5


def test_a_batch_cut_off_by_a_restart_is_offered_to_finish(monkeypatch):
    gate = Gate(monkeypatch)
    at = ok(opened().button(key=keys.EXTRACT_ALL).click().run())
    gate.let(2)
    until(lambda: gate.done == 2, "two pages were not read")
    jobs = batches.jobs()
    [job] = [j for j in jobs.of_workspace(at.session_state[keys.WS]) if j.state == RUNNING]
    batches.runner()._stop.set()  # the server stops: its runner ends, the job stays as it was, running
    gate.let(10)
    until(lambda: batches.runner().current is None, "the runner did not stop")
    batches._runner.clear()  # a restart: a new runner marks the job interrupted
    assert jobs.get(job.id).state == RUNNING
    again = go(ok(start(ws=at.session_state[keys.WS])), nav.EXTRACT)
    assert jobs.get(job.id).state == "interrupted"
    offer = again.button(key=keys.BATCH_FINISH)
    missing = 5 - jobs.get(job.id).done
    assert offer.label == f"Finish the {missing} pages"
    settle(ok(offer.click().run()))
    until(lambda: len(ok(again.run()).session_state[keys.RESULTS]) == 5, "the missing pages were not read")
    assert not again.get("button") or all(b.key != keys.BATCH_FINISH for b in again.button)  # offered once
