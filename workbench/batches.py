"""Extract all as a job on the server: it goes on through a reload, a closed tab or a second tab.

The pages are read by the server's :class:`~workbench.jobs.JobRunner` (one per data folder, shared by
every session and the HTTP API); the Extract page polls the workspace's jobs each second while one runs,
takes each finished page into the workspace's history once (:meth:`~workbench.jobs.Jobs.claim`), and
shows progress, a time estimate, Cancel, and an offer to finish a batch a restart of the server cut off.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import streamlit as st

from ocr.batch import configured_scheduler
from workbench import history, keys, url, workspace
from workbench.engine import engine
from workbench.files import file_bytes, locate, page_label
from workbench.jobs import INTERRUPTED, RUNNING, Job, JobRunner, Jobs

log = logging.getLogger(__name__)
ss = st.session_state


@st.cache_resource(show_spinner=False, max_entries=4)
def _runner(folder: str) -> JobRunner:
    """The job runner of a data folder: a shared resource (it holds no session's data)."""
    return JobRunner(Jobs(workspace.store()), engine(), configured_scheduler).start()


def runner() -> JobRunner:
    return _runner(str(workspace.store().folder))


def jobs() -> Jobs:
    return runner().jobs


def start(todo: list[str]) -> list[Job]:
    """Submit the pages ``todo`` (page keys) as jobs of this workspace, one per file, with the settings
    shown; raises :class:`~workbench.store.StoreUnavailable` when the store cannot keep them."""
    by_file: dict[str, list[tuple[str, int]]] = defaultdict(list)
    entries = {}
    for key in todo:
        found = locate(key)
        if found is not None:
            entry, index = found
            entries[entry.sha] = entry
            by_file[entry.sha].append((key, index))
    started = []
    ss[keys.BATCH_WATCH] = []
    for sha, pages in by_file.items():
        entry = entries[sha]
        started.append(jobs().submit(entry.name, file_bytes(entry), [i for _, i in pages], url.settings(),
                                     url.options(), ws=workspace.ws(), keys=[k for k, _ in pages]))
        log.info("Extract all: %d pages of a file as a job on the server", len(pages))
    ss[keys.BATCH_WATCH] = [job.id for job in started]
    return started


def active() -> list[Job]:
    """This workspace's jobs that are queued or running."""
    return [job for job in jobs().of_workspace(workspace.ws()) if not job.ended]


def take_finished() -> int:
    """Take the pages the workspace's jobs finished into its history (each once, whichever tab takes
    it); returns how many this call took."""
    took = 0
    for job in jobs().of_workspace(workspace.ws()):
        for page in jobs().untaken(job.id):
            if not jobs().claim(job.id, workspace.ws(), page.position):
                continue
            took += 1
            if page.result is not None:
                history.record(page.key, page.result)
                ss[keys.FAILED].pop(page.key, None)
            else:
                ss[keys.FAILED][page.key] = page.error or "it could not be read."
    return took


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"about {minutes} min {secs:02d} s" if minutes else f"about {secs} s"


def panel() -> None:
    """Progress of the workspace's running jobs (redrawn each second while one runs), Cancel, what a
    batch this tab watched did when it ends, and an offer to finish a batch a restart cut off."""
    running = active()
    watched: list[str] = ss.setdefault(keys.BATCH_WATCH, [])
    watched.extend(job.id for job in running if job.id not in watched)
    take_finished()
    if running:
        if configured_scheduler():
            st.caption(f"Reading on the cluster at {configured_scheduler()}.")
        _progress(running)
        return
    if watched:
        _ended([job for job_id in watched if (job := jobs().get(job_id, workspace.ws())) is not None])
        watched.clear()
    _offer_to_finish()


def _ended(ended: list[Job]) -> None:
    """The end of the batch this tab watched: one line, and each page's row for the last run's table."""
    rows = []
    for job in ended:
        for page in jobs().pages(job.id):
            r = page.result
            status = "read" if r is not None else "failed" if page.error else "not read"
            rows.append({"page": page_label(page.key), "status": status, "words": r.word_count if r else None,
                         "mean confidence": r.mean_conf if r else None,
                         "seconds": round(r.timings.get("total", 0), 2) if r else None, "problem": page.error or ""})
    ss[keys.BATCH] = rows
    total, read = len(rows), sum(row["status"] == "read" for row in rows)
    failed = sum(row["status"] == "failed" for row in rows)
    label = f"Read {read} of {total} page{'s' if total > 1 else ''}"
    if failed:
        label += f"; {failed} could not be read"
    if total - read - failed:
        label += f"; {total - read - failed} cancelled"
    st.status(label, state="error" if failed else "complete", expanded=False)
    if configured_scheduler():
        st.caption(f"Read on the cluster at {configured_scheduler()}.")


@st.fragment(run_every=1.0)
def _progress(_: list[Job]) -> None:
    running = active()
    if take_finished() or not running:
        st.rerun(scope="app")  # new texts on the page; or the batch ended: the page stops polling
    total = sum(job.total for job in running)
    done = sum(job.done + job.failed for job in running)
    left = [s for job in running if (s := job.seconds_left()) is not None]
    state = "reading" if any(job.state == RUNNING for job in running) else "waiting for the server"
    with st.container(border=True, key=keys.BATCH_PANEL):
        text = f"Extract all, {state}: {done} of {total} pages read"
        if left:
            text += f"; {_clock(sum(left))} left"
        st.progress(done / total if total else 0.0, text=text)
        st.caption("It goes on on the server: you can reload this page or close the tab and come back.")
        if st.button("Cancel", icon=":material/cancel:", key=keys.BATCH_CANCEL):
            for job in running:
                jobs().cancel(job.id)
            st.rerun(scope="app")


def _offer_to_finish() -> None:
    cut = [job for job in jobs().of_workspace(workspace.ws()) if job.state == INTERRUPTED]
    if not cut:
        return
    missing = {job.id: jobs().missing(job.id) for job in cut}
    pages = [p for job in cut for p in jobs().pages(job.id) if p.position in missing[job.id]]
    if not pages:
        return
    names = ", ".join(dict.fromkeys(page_label(p.key).split(" (page")[0] for p in pages))
    with st.container(border=True, key=keys.BATCH_CUT):
        st.warning(f"A batch was cut off by a restart of the server: {len(pages)} page"
                   f"{'s' if len(pages) > 1 else ''} of {names} {'were' if len(pages) > 1 else 'was'} not read.",
                   icon=":material/restart_alt:")
        with st.container(horizontal=True):
            if st.button(f"Finish the {len(pages)} page{'s' if len(pages) > 1 else ''}", type="primary",
                         icon=":material/play_arrow:", key=keys.BATCH_FINISH):
                for job in cut:
                    jobs().cancel_interrupted(job.id)
                start([p.key for p in pages if locate(p.key) is not None])
                st.rerun()
            if st.button("Leave them", key=keys.BATCH_LEAVE):
                for job in cut:
                    jobs().cancel_interrupted(job.id)
                st.rerun()
