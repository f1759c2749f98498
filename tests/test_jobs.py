"""The job store and its runner: documents read on the server, page by page, surviving a restart."""

from __future__ import annotations

import time

import pytest

import ocr
from workbench.jobs import CANCELLED, DONE, INTERRUPTED, QUEUED, RUNNING, JobRunner, Jobs
from workbench.store import Store, new_id

from .conftest import pdf_of, until

WORDS = ["Harbour lights glow", "Copper kettles whistle", "Quiet meadows bloom", "Granite bridges span",
         "Velvet curtains fall", "Silver rivers wind"]


@pytest.fixture(scope="module")
def engine():
    shared = ocr.Engine("api", workers=2)
    yield shared
    shared.close()


def test_a_job_reads_its_pages_in_order_and_ends(tmp_path, engine):
    jobs = Jobs(Store(tmp_path))
    runner = JobRunner(jobs, engine).start()
    try:
        job = jobs.submit("six.pdf", pdf_of(WORDS), [5, 0, 2], ocr.Settings(), ocr.Options(engine="tesseract"))
        assert job.state in (QUEUED, RUNNING) and job.total == 3 and job.pages == (5, 0, 2)
        until(lambda: jobs.get(job.id).state == DONE, "the job did not end")
    finally:
        runner.close()
    pages = jobs.pages(job.id)
    assert [p.page for p in pages] == [5, 0, 2]
    assert [p.result.text.strip() for p in pages] == [WORDS[5], WORDS[0], WORDS[2]]
    ended = jobs.get(job.id)
    assert ended.done == 3 and ended.failed == 0 and ended.seconds_left() is None


def test_a_damaged_file_is_a_sentence_per_page_and_the_job_still_ends(tmp_path, engine):
    jobs = Jobs(Store(tmp_path))
    runner = JobRunner(jobs, engine).start()
    try:
        job = jobs.submit("broken.pdf", pdf_of(WORDS[:2])[:300], [0, 1], ocr.Settings(),
                          ocr.Options(engine="tesseract"))
        until(lambda: jobs.get(job.id).state == DONE, "the job did not end")
    finally:
        runner.close()
    pages = jobs.pages(job.id)
    assert all(p.result is None and p.error and "\n" not in p.error for p in pages), pages
    assert jobs.get(job.id).failed == len(pages)


def test_cancel_stops_a_running_job_and_says_what_is_missing(tmp_path, engine):
    jobs = Jobs(Store(tmp_path))
    runner = JobRunner(jobs, engine).start()
    many = WORDS * 4
    try:
        job = jobs.submit("many.pdf", pdf_of(many), list(range(len(many))), ocr.Settings(),
                          ocr.Options(engine="tesseract"))
        until(lambda: jobs.get(job.id).done >= 1, "no page was read")
        assert jobs.get(job.id).seconds_left() is not None  # an estimate once a page is done
        assert jobs.cancel(job.id)
        until(lambda: runner.current is None, "the runner did not stop the job")
    finally:
        runner.close()
    ended = jobs.get(job.id)
    assert ended.state == CANCELLED and not jobs.cancel(job.id)
    assert 1 <= ended.done < len(many)
    assert len(jobs.missing(job.id)) == len(many) - ended.done


def test_a_restart_interrupts_a_workspaces_job_and_resumes_the_apis(tmp_path, engine):
    store = Store(tmp_path)
    jobs = Jobs(store)
    ws = new_id()
    app_job = jobs.submit("app.pdf", pdf_of(WORDS[:2]), [0, 1], ocr.Settings(), ocr.Options(engine="tesseract"),
                          ws=ws, keys=["a:0", "a:1"])
    api_job = jobs.submit("api.pdf", pdf_of(WORDS[2:4]), [0, 1], ocr.Settings(), ocr.Options(engine="tesseract"))
    jobs._set_state(app_job.id, RUNNING, (QUEUED,))  # a server stopped while both were unfinished
    jobs._page_done(app_job.id, 0, None, "a page that failed.")
    store.close()

    again = Jobs(Store(tmp_path))  # the next server, on the same folder
    runner = JobRunner(again, engine).start()
    try:
        until(lambda: again.get(api_job.id).state == DONE, "the API's job was not resumed")
    finally:
        runner.close()
    assert [p.result.text.strip() for p in again.pages(api_job.id)] == WORDS[2:4]
    cut = again.get(app_job.id, ws)
    assert cut is not None and cut.state == INTERRUPTED and again.missing(app_job.id) == [1]
    assert again.get(app_job.id, new_id()) is None  # another workspace does not see it
    assert [j.id for j in again.of_workspace(ws)] == [app_job.id]


def test_each_finished_page_is_taken_into_its_workspace_once(tmp_path):
    jobs = Jobs(Store(tmp_path))
    ws = new_id()
    job = jobs.submit("two.pdf", pdf_of(WORDS[:2]), [0, 1], ocr.Settings(), ocr.Options(), ws=ws, keys=["k:0", "k:1"])
    jobs._page_done(job.id, 1, None, "it could not be read.")
    assert [p.key for p in jobs.untaken(job.id)] == ["k:1"]
    assert jobs.claim(job.id, ws, 1) and not jobs.claim(job.id, ws, 1)  # a second tab takes nothing
    assert not jobs.claim(job.id, new_id(), 0)
    assert jobs.untaken(job.id) == []


def test_old_api_jobs_go_with_their_files_and_a_workspaces_go_with_it(tmp_path):
    store = Store(tmp_path)
    jobs = Jobs(store)
    data = pdf_of(WORDS[:1])
    old = jobs.submit("old.pdf", data, [0], ocr.Settings(), ocr.Options())
    ws = new_id()
    mine = jobs.submit("mine.pdf", pdf_of(WORDS[1:2]), [0], ocr.Settings(), ocr.Options(), ws=ws, keys=["m:0"])
    assert store._blob(old.sha).exists()
    assert jobs.sweep(time.time() + 1) == 1
    assert jobs.get(old.id) is None and not store._blob(old.sha).exists()
    store.clear(ws)
    assert jobs.get(mine.id) is None and not store._blob(mine.sha).exists()
