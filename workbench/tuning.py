"""Auto-tune as a job beside the page: it runs in a thread of its own, so the Tune page stays on screen
(its controls, its pictures, a Cancel button) while a fragment shows the progress in plain words.

The thread calls :func:`ocr.autotune` with a stop event (the Cancel button sets it: the best settings
found so far come back, marked ``cut_short``) and writes its progress into the :class:`Job`; it never
calls Streamlit. The page applies the answer on its next run once the thread has finished.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import ocr
from ocr.batch import describe_error

LIMIT_S = 20.0  # seconds auto-tune may take; the best so far is kept when the time is up


@dataclass
class Job:
    """One auto-tune run on one page."""

    page: str  # the page key
    stop: threading.Event = field(default_factory=threading.Event)
    fraction: float = 0.0
    message: str = "starting"
    answer: ocr.Tuning | None = None
    error: str | None = None
    thread: threading.Thread | None = None

    def progress(self, fraction: float, message: str) -> None:
        """``ocr.autotune``'s progress callback (called in the job's thread)."""
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.message = message

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def cancel(self) -> None:
        """Ask the search to stop; it returns the best found so far."""
        self.stop.set()
        self.message = "stopping: keeping the best found so far"


def start(key: str, image: ocr.Page | ocr.Processed, options: ocr.Options, engine: ocr.Engine) -> Job:
    """Start auto-tune on ``image`` (the page, or the part of it the crop and the turn leave) in a thread."""
    job = Job(page=key)

    def work() -> None:
        try:
            job.answer = ocr.autotune(image, progress=job.progress, options=options, engine=engine, stop=job.stop,
                                      limit_s=LIMIT_S)
        except Exception as e:  # one sentence for the person; the page goes on
            job.error = describe_error(e)

    job.thread = threading.Thread(target=work, daemon=True, name=f"ocr-autotune-{key[:8]}")
    job.thread.start()
    return job
