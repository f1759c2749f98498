"""The HTTP API, served by the app's own process beside it (Streamlit's ``st.App`` routes, see app.py):
send a document, get its text; or start a job and ask for it later. The API reads with the app's engine
workers and keeps its jobs in the app's job store (:mod:`workbench.jobs`), so the browser's "Extract all"
and the API's jobs are one queue of one kind. The routes and what they answer: docs/api.md, and
``/api/v1/openapi.json``.

Access is off until ``OCR_WORKBENCH_API_TOKEN`` names one token or several (comma-separated, one per
client); a request carries one as ``Authorization: Bearer TOKEN``. Errors are RFC 9457 problem details
whose ``detail`` is the sentence the app would show. At most ``OCR_WORKBENCH_API_QUEUE`` reads (default
4) wait or run at once; more get 429 with ``Retry-After``, and the API reads with at most all but one of
the engine's workers, so the browser's visitors keep theirs.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

import ocr
import ocr.logs
from ocr import exports
from ocr.batch import configured_scheduler
from ocr.errors import OcrError, SettingsError
from ocr.reading import Source

from . import memory
from .store import StoreUnavailable

log = logging.getLogger(__name__)

TOKEN_VARIABLE, QUEUE_VARIABLE = "OCR_WORKBENCH_API_TOKEN", "OCR_WORKBENCH_API_QUEUE"
MAX_BYTES = 50 * 1024 * 1024  # as the app's uploads (server.maxUploadSize)
FORMATS = {"txt": "text/plain; charset=utf-8", "json": "application/json", "csv": "text/csv; charset=utf-8",
           "hocr": "text/html; charset=utf-8", "pdf": "application/pdf"}
BY_MEDIA = {"text/plain": "txt", "application/json": "json", "text/csv": "csv", "text/html": "hocr",
            "application/xhtml+xml": "hocr", "application/pdf": "pdf"}
PREFIX = "/api/v1"


class Problem(Exception):
    """An answer other than success: its status and one sentence."""

    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}

    def response(self) -> JSONResponse:
        body = {"type": "about:blank", "title": self.title, "status": self.status, "detail": self.detail}
        return JSONResponse(body, status_code=self.status, headers=self.headers, media_type="application/problem+json")


def tokens() -> list[str]:
    return [t.strip() for t in os.environ.get(TOKEN_VARIABLE, "").split(",") if t.strip()]


def _check_token(request: Request) -> None:
    known = tokens()
    if not known:
        raise Problem(403, "The API is off", f"This server's HTTP API is off: set {TOKEN_VARIABLE} to a token "
                      "(or several, comma-separated) and send it as a bearer token.")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not any(hmac.compare_digest(given.strip(), t) for t in known):
        raise Problem(401, "Unauthorized", "A valid bearer token is needed (Authorization: Bearer TOKEN).",
                      {"WWW-Authenticate": 'Bearer realm="ocr-workbench"'})


class Queue:
    """At most ``size`` reads waiting or running; the reads themselves at most ``workers`` at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken = 0
        self._running: threading.Semaphore | None = None

    @property
    def size(self) -> int:
        try:
            return max(1, int(os.environ.get(QUEUE_VARIABLE, "4")))
        except ValueError:
            return 4

    def running(self, engine: ocr.Engine) -> threading.Semaphore:
        with self.lock:
            if self._running is None:
                self._running = threading.Semaphore(max(1, engine.workers - 1))
            return self._running

    def enter(self) -> None:
        with self.lock:
            if self.taken >= self.size:
                raise Problem(429, "Too many requests", f"The server is reading {self.taken} documents for the "
                              "API already: try again in a few seconds.", {"Retry-After": "5"})
            self.taken += 1

    def leave(self) -> None:
        with self.lock:
            self.taken -= 1


QUEUE = Queue()


def _engine() -> ocr.Engine:
    from .engine import engine

    return engine()


def _jobs() -> Any:
    from . import batches

    return batches.jobs()


def endpoint(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """The route's function, behind the token, answering problems as problem details, and logged (method,
    route, status, seconds; never the token or the text)."""
    async def handle(request: Request) -> Response:
        start = time.perf_counter()
        try:
            _check_token(request)
            response = await fn(request)
        except Problem as p:
            response = p.response()
        except Exception:  # a bug of ours: logged with its traceback, answered as one sentence (500)
            log.exception("API %s %s failed", request.method, request.url.path)
            response = Problem(500, "Internal error", "Something went wrong on the server; it was logged.").response()
        log.info("API %s %s %d %.2f s%s", request.method, request.url.path, response.status_code,
                 time.perf_counter() - start, f" {response.headers.get('x-pages')} pages"
                 if response.headers.get("x-pages") else "")
        return response

    return handle


async def _body(request: Request) -> tuple[str, bytes, dict[str, str]]:
    """The file (name, bytes) and the form's other fields (multipart), or the raw body and the query's
    fields; 413 past :data:`MAX_BYTES`, read in chunks (a client that lies about its length is cut off)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES + 64 * 1024:
        raise _too_large()
    fields = dict(request.query_params)
    sent_as_file = request.headers.get("content-type", "").startswith("multipart/form-data")
    if sent_as_file:
        form = await request.form(max_files=1, max_fields=32, max_part_size=MAX_BYTES)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(400, "No file", "Send the document as the form's `file` field, or as the body.")
        data = await upload.read(MAX_BYTES + 1)
        name = upload.filename or "document"
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
        await form.close()
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BYTES:
                raise _too_large()
            chunks.append(chunk)
        data = b"".join(chunks)
        name = fields.get("name", "document")
    if len(data) > MAX_BYTES:
        raise _too_large()
    if not data and not sent_as_file:  # an empty file sent as the form's file is read, and said so
        raise Problem(400, "No file", "The request holds no document: send it as the body or the form's `file`.")
    return name, data, fields


def _too_large() -> Problem:
    return Problem(413, "Too large", f"The document is larger than {MAX_BYTES // 2**20} MB, the limit for a file.")


def _how(fields: dict[str, str]) -> tuple[ocr.Settings, ocr.Options, bool, tuple[int, ...] | None]:
    """Settings, options, auto-tune and the pages (0-based) from the request's fields; 400 on a bad one."""
    try:
        settings, options = ocr.Settings(), None
        if fields.get("settings"):
            settings, options = ocr.parse_preset(fields["settings"])
        options = options or ocr.Options(engine="auto")
        changes = {k: fields[k] for k in ("engine", "lang") if fields.get(k)}
        options = options.replace(**changes) if changes else options
        autotune = fields.get("autotune", "").lower() in ("1", "true", "yes", "on")
        return settings, options, autotune, _pages(fields.get("pages", ""))
    except (SettingsError, ValueError, TypeError) as e:
        raise Problem(400, "Bad request", str(e) if str(e).endswith(".") else f"{e}.") from None


def _pages(spec: str) -> tuple[int, ...] | None:
    """``"1-3,5"`` -> (0, 1, 2, 4); empty: every page."""
    if not spec.strip():
        return None
    chosen: list[int] = []
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or int(low) < 1 or (high and int(high) < int(low)):
            raise ValueError(f"pages takes numbers and ranges from 1, like 1-3,5, not {spec!r}")
        chosen.extend(range(int(low) - 1, int(high or low)))
    return tuple(dict.fromkeys(chosen))


def _format(request: Request, fields: dict[str, str]) -> str:
    asked = fields.get("format", "").lower().lstrip(".")
    if asked:
        if asked not in FORMATS:
            raise Problem(400, "Bad request", f"format takes one of {', '.join(FORMATS)}, not {asked!r}.")
        return asked
    for part in request.headers.get("accept", "").split(","):
        media = part.split(";")[0].strip().lower()
        if media in BY_MEDIA:
            return BY_MEDIA[media]
    return "json"


def _answer(fmt: str, outcomes: list[tuple[ocr.Result | None, str | None, Any]], name: str) -> Response:
    """The pages (result or sentence, origin) in ``fmt``."""
    results = [r for r, _, _ in outcomes if r is not None]
    errors = [{"page": n, "detail": e} for n, (_, e, _) in enumerate(outcomes, start=1) if e]
    headers = {"x-pages": str(len(outcomes))}
    if not results:
        raise Problem(422, "Unreadable", str(errors[0]["detail"]) if errors else "The document has no page to read.",
                      headers)
    if fmt == "json":
        pages = [{"page": n, **exports.to_record(r), "engine": r.engine, "settings": r.settings.changes()
                  if r.settings else {}, "score": r.score} if r is not None else {"page": n, "error": e}
                 for n, (r, e, _) in enumerate(outcomes, start=1)]
        return JSONResponse({"name": name, "pages": pages, "errors": errors}, headers=headers)
    if fmt == "pdf":
        data = exports.document_pdf([(o, r) for r, _, o in outcomes if o is not None])
    elif fmt == "txt":
        data = exports.document_text([r.text if r is not None else "" for r, _, _ in outcomes])
    else:
        data = exports.export(results, fmt)
    if errors:
        headers["x-errors"] = json.dumps(errors)[:4000]
    return Response(data, media_type=FORMATS[fmt], headers=headers)


def _read(name: str, data: bytes, settings: ocr.Settings, options: ocr.Options, autotune: bool,
          pages: tuple[int, ...] | None) -> list[tuple[ocr.Result | None, str | None, Any]]:
    """Read the document with the app's engine, at most all but one of its workers at once."""
    engine = _engine()
    tune = None
    if autotune:
        from ocr.tuning import autotune as tuner

        def tune(page: ocr.Page) -> tuple[ocr.Settings, ocr.Options]:
            found = tuner(page, options=options, engine=engine)
            return found.settings, found.options

    with QUEUE.running(engine), contextlib.ExitStack() as after:
        after.callback(memory.give_back)  # the document's pages and pictures go back to the system
        outcomes = ocr.read_files([Source(name, data=data, pages=pages)], settings, options, engine=engine,
                                  tune=tune, jobs=max(1, engine.workers - 1), scheduler=configured_scheduler())
    return [(o.result if o.ok else None, None if o.ok else o.error or "the page could not be read.", o.origin)
            for o in outcomes]


@endpoint
async def read(request: Request) -> Response:
    name, data, fields = await _body(request)
    fmt = _format(request, fields)
    settings, options, autotune, pages = _how(fields)
    QUEUE.enter()
    try:
        outcomes = await run_in_threadpool(_read, name, data, settings, options, autotune, pages)
    finally:
        QUEUE.leave()
    return _answer(fmt, outcomes, name)


@endpoint
async def submit(request: Request) -> Response:
    name, data, fields = await _body(request)
    settings, options, _, pages = _how(fields)
    count = await run_in_threadpool(_count_pages, name, data)
    chosen = [p for p in (pages or range(count)) if p < count]
    if not chosen:
        raise Problem(422, "No pages", f"The document has {count} page{'s' if count != 1 else ''}; none was chosen.")
    try:
        job = await run_in_threadpool(lambda: _jobs().submit(name, data, chosen, settings, options))
    except StoreUnavailable as e:
        raise Problem(503, "Store unavailable", f"Jobs cannot be kept right now ({e}); use /read.") from None
    return JSONResponse(_job_json(job), status_code=202, headers={"Location": f"{PREFIX}/jobs/{job.id}"})


def _count_pages(name: str, data: bytes) -> int:
    try:
        return len(ocr.load(data, name))
    except OcrError as e:
        raise Problem(422, "Unreadable", str(e)) from None


def _job_json(job: Any) -> dict[str, Any]:
    return {"id": job.id, "name": job.name, "state": job.state, "pages": job.total, "done": job.done,
            "failed": job.failed, "seconds_left": job.seconds_left(), "links": {"self": f"{PREFIX}/jobs/{job.id}"}}


@endpoint
async def job(request: Request) -> Response:
    found = _jobs().get(request.path_params["id"])
    if found is None or found.ws is not None:  # a workspace's batch is its workspace's, not the API's
        raise Problem(404, "Not found", "There is no such job (jobs are kept as long as workspaces).")
    fmt = request.query_params.get("format", "").lower().lstrip(".")
    if not fmt:  # its progress; with ?format= its result
        return JSONResponse(_job_json(found))
    if fmt not in FORMATS:
        raise Problem(400, "Bad request", f"format takes one of {', '.join(FORMATS)}, not {fmt!r}.")
    if not found.ended:
        raise Problem(409, "Not done", f"The job has read {found.done + found.failed} of {found.total} pages so far.",
                      {"Retry-After": "2"})
    data = _jobs().data(found)
    outcomes = [(p.result, p.error, replace(p.result.origin, data=data) if p.result and p.result.origin else None)
                for p in _jobs().pages(found.id)]
    return _answer(fmt, outcomes, found.name)


@endpoint
async def cancel(request: Request) -> Response:
    found = _jobs().get(request.path_params["id"])
    if found is None or found.ws is not None:
        raise Problem(404, "Not found", "There is no such job.")
    _jobs().cancel(found.id)
    return JSONResponse(_job_json(_jobs().get(found.id)))


@endpoint
async def health(request: Request) -> Response:
    engine = _engine()
    from . import workspace

    return JSONResponse({"status": "ok", "engines": [info.name for info in ocr.registry.engines()],
                         "workers": engine.workers, "workers_running": len(engine.worker_pids()),
                         "queue": QUEUE.taken, "queue_size": QUEUE.size, "jobs_waiting": len(_jobs().waiting()),
                         "store": str(workspace.store().health())})


@endpoint
async def engines(request: Request) -> Response:
    return JSONResponse({"engines": [{"name": info.name, "label": info.label, "version": _version(info),
                                      "languages": _languages(info)} for info in ocr.registry.engines()],
                         "auto": ocr.registry.AUTO})


def _version(info: Any) -> str:
    try:
        return str(info.version())
    except Exception:  # an engine that cannot say its version is still listed: logged, said as unknown
        log.warning("engine %s did not say its version", info.name, exc_info=True)
        return "unknown"


def _languages(info: Any) -> list[str]:
    installed = [lang for lang in ocr.languages() if lang != "osd"]
    return [lang for lang in installed if info.reads(lang)]


async def openapi(request: Request) -> Response:
    from .api_spec import SPEC

    return JSONResponse(SPEC)


async def docs(request: Request) -> Response:
    from .api_spec import page

    return HTMLResponse(page())


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """At the server's start: the logs (each request a line) and the job runner (jobs a restart cut off
    resume or are marked), beside."""
    ocr.logs.setup(names=("ocr", "workbench"))  # as the app's first visit does (it replaces this handler)
    memory.configure()  # large blocks go back to the system when freed, API reads or not
    threading.Thread(target=_start_jobs, daemon=True, name="ocr-jobs-start").start()
    yield None


def _start_jobs() -> None:
    try:
        _jobs()
    except Exception:  # the app serves without jobs rather than not at all: logged, tried again on first use
        log.exception("the job runner did not start")


ROUTES = [
    Route(f"{PREFIX}/read", read, methods=["POST"]),
    Route(f"{PREFIX}/jobs", submit, methods=["POST"]),
    Route(f"{PREFIX}/jobs/{{id}}", job, methods=["GET"]),
    Route(f"{PREFIX}/jobs/{{id}}", cancel, methods=["DELETE"]),
    Route(f"{PREFIX}/health", health, methods=["GET"]),
    Route(f"{PREFIX}/engines", engines, methods=["GET"]),
    Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
    Route(f"{PREFIX}/docs", docs, methods=["GET"]),
]
