"""Reading a batch on a Dask cluster: :class:`ClusterRunner`, the runner :func:`ocr.batch.stream_pages`
uses when a scheduler is named.

Each task carries a file (its bytes, sent to the cluster once per file, or its path when every worker
sees the same files) and a page number, never a decoded page: the worker opens the file, decodes that
page, cleans it up and reads it. Every Dask worker process runs one thread and keeps one engine
(:class:`EnginePlugin`: an :class:`~ocr.engines.Engine` of one worker process, Tesseract with one
thread), loaded once and used for every page that worker reads.

A page's own failure (damaged, timed out) comes back as its sentence and is not tried again; a task
whose worker dies is given to another worker by the scheduler, and one more error is allowed
(``retries=1``). Cancelling (Ctrl-C) cancels the tasks and stops every worker's engine, so no worker
goes on reading a page nobody waits for.

    with connect("tcp://scheduler:8786") as runner:       # or "local:2": a LocalCluster of 2 processes
        for outcome in stream_pages(files, runner=runner):
            ...
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin

from .decode import load
from .engines import Engine
from .errors import OcrError, SettingsError
from .reading import Job, Reading, Source, describe_error, read_page
from .result import Result

PLUGIN = "ocr-engine"
CONNECT_SECONDS = 20


class EnginePlugin(WorkerPlugin):
    """A Dask worker plugin: one engine per worker process, started with the worker, closed with it."""

    idempotent = True  # a second client registering it does not restart the engines
    name = PLUGIN

    def __init__(self, backend: str = "api") -> None:
        self.backend = backend
        self.engine: Engine | None = None

    def setup(self, worker: Any = None) -> None:
        self.engine = Engine(self.backend, workers=1)

    def teardown(self, worker: Any = None) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None

    def reset(self) -> None:
        """Stop the engine's process (a page being read fails at once) and start afresh."""
        self.teardown()
        self.setup()


_OWN: dict[str, Engine] = {}  # a worker without the plugin (registered by someone else's client): its own


def worker_engine() -> Engine:
    """The engine of the Dask worker this runs in."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(PLUGIN)
    if isinstance(plugin, EnginePlugin):
        if plugin.engine is None:
            plugin.setup()
        assert plugin.engine is not None
        return plugin.engine
    if "api" not in _OWN:
        _OWN["api"] = Engine("api", workers=1)
    return _OWN["api"]


def read_remote(file: bytes | str, name: str, index: int, reading: Reading) -> tuple[Result | None, str | None]:
    """A Dask task: read page ``index`` of ``file`` (bytes, or a path this worker sees).

    Returns the result (without its origin, which the client knows) or the page's error as one sentence;
    only what is not the page's fault (the worker itself failing) raises, so only that is tried again."""
    try:
        pages = load(file, name, pdf_dpi=reading.pdf_dpi, limits=reading.limits)
        page = pages[index]
        result = read_page(page, reading.settings, reading.options,
                           engine=worker_engine())
        result.origin = None
        return result, None
    except OcrError as e:
        return None, describe_error(e)


def interrupt_engines(dask_worker: Any) -> bool:
    """Run on each worker (``client.run``) when a batch is cancelled: stop its engine, so no page goes on
    being read."""
    plugin = dask_worker.plugins.get(PLUGIN)
    if isinstance(plugin, EnginePlugin):
        plugin.reset()
    for engine in _OWN.values():
        engine.close()
    _OWN.clear()
    return True


def worker_processes(dask_worker: Any) -> list[int]:
    """Run on each worker (``client.run``): its process id and its engine's processes."""
    plugin = dask_worker.plugins.get(PLUGIN)
    engines = [plugin.engine] if isinstance(plugin, EnginePlugin) and plugin.engine else []
    return [os.getpid(), *(pid for engine in [*engines, *_OWN.values()] for pid in engine.worker_pids())]


class ClusterRunner:
    """Reads a batch's pages on a Dask cluster through ``client`` (see :func:`connect`).

    ``share_paths``: the workers see the batch's files at the same paths, so tasks carry paths;
    otherwise each file's bytes are sent to the cluster once and its tasks refer to them.
    """

    def __init__(self, client: Any, cluster: Local | None = None, *, share_paths: bool = False,
                 backend: str = "api") -> None:
        self.client = client
        self.cluster = cluster
        self.share_paths = share_paths
        self.workers = max(1, sum(client.nthreads().values()))
        client.register_plugin(EnginePlugin(backend), name=PLUGIN)
        self._data: dict[int, Any] = {}  # id(source) -> the future of its bytes on the cluster
        self._reading: Reading | None = None  # the batch's, for a page sent again (see collect)

    def file_opened(self, source: Source) -> None:
        """Send the file's bytes to the workers (unless they read it from its path). A scheduler keeps
        one copy of them (its memory manager drops the others), so a worker that dies may take them with
        it: :meth:`collect` then sends them again."""
        data = source.data
        if data is None and source.path is not None and not self.share_paths:
            data = Path(source.path).read_bytes()
        if data is not None:
            self._data[id(source)] = self._scatter(data)

    def _scatter(self, data: bytes) -> Any:
        """The bytes on every worker; a worker dying meanwhile is tried past (three times), and when the
        cluster cannot take them the tasks carry the bytes themselves."""
        for _ in range(3):
            try:
                return self.client.scatter(data, hash=False, broadcast=True)
            except OSError:  # Dask's CommClosedError: a worker went away while the bytes were on their way
                continue
        return data

    def file_done(self, source: Source) -> None:
        self._data.pop(id(source), None)  # the cluster lets the bytes go once no task needs them

    def submit(self, job: Job, reading: Reading) -> Any:
        self._reading = reading
        what = self._data.get(id(job.source), job.source.path)
        if what is None:
            raise SettingsError(f"{job.outcome.name}: a page given as pixels cannot be sent to a cluster; "
                                "give its file (ocr.batch.Source) instead.")
        return self.client.submit(read_remote, what, job.source.name, job.index, reading, retries=1, pure=False,
                                  key=f"ocr-page-{uuid.uuid4().hex}")

    def collect(self, job: Job, future: Any) -> Result:
        try:
            result, error = future.result()
        except CancelledError:  # the file's bytes went with a dead worker: sent again, the page read again
            sent = self._data.get(id(job.source))
            if sent is None or self._reading is None:
                raise
            if getattr(sent, "status", "finished") != "finished":
                self.file_opened(job.source)
            result, error = self.submit(job, self._reading).result()
        if error is not None:
            raise OcrError(error)
        assert isinstance(result, Result)
        return result

    def cancel(self, futures: list[Any]) -> None:
        """Cancel the tasks and stop the engines that may still be reading them."""
        with contextlib.suppress(Exception):
            self.client.cancel(futures, force=True)
        with contextlib.suppress(Exception):
            self.client.run(interrupt_engines)

    def close(self) -> None:
        self._data.clear()
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def parse_local(spec: str) -> int | None:
    """``local`` or ``local:N`` -> N worker processes (None: one per core); anything else is an error."""
    name, _, count = spec.partition(":")
    if name != "local":
        raise SettingsError(f"--cluster takes local or local:N, not {spec!r}.")
    if not count:
        return None
    if not count.isdigit() or int(count) < 1:
        raise SettingsError(f"--cluster local:N needs a whole number of workers of 1 or more, not {count!r}.")
    return int(count)


class Local:
    """A Dask ``LocalCluster`` of one-thread worker processes, its client, and the scratch folder of
    ours its workers spill and keep their files in (Dask's default, ``dask-scratch-space`` in the
    system's temporary folder, outlives the cluster): :meth:`close` stops all three."""

    def __init__(self, workers: int | None = None) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.scratch = Path(tempfile.mkdtemp(prefix="ocr-dask-"))
        try:
            # the scheduler makes a scratch folder too, where the temporary directory says
            settings = {"distributed.scheduler.allowed-failures": 1, "temporary-directory": str(self.scratch)}
            with dask.config.set(settings):
                self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=logging.ERROR, local_directory=str(self.scratch))
            try:
                self.client = Client(self.cluster)  # type: ignore[no-untyped-call]
            except Exception:  # whatever stopped the client, the cluster must not outlive it: closed, raised
                self.cluster.close()
                raise
        except BaseException:  # the scratch folder must not outlive a cluster that never started
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            self.cluster.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def local_cluster(workers: int | None = None) -> Local:
    """A :class:`Local` cluster of ``workers`` processes of one thread each (default: one per core). A
    page whose worker dies twice is given up (allowed-failures 1)."""
    return Local(workers)


@contextlib.contextmanager
def connect(address: str, *, share_paths: bool | None = None, backend: str = "api") -> Iterator[ClusterRunner]:
    """A :class:`ClusterRunner` on the scheduler at ``address`` (``tcp://host:8786``), or on a new
    ``LocalCluster`` for ``local`` / ``local:N``; closed (and a local cluster stopped) at the end.

    ``share_paths`` defaults to True for a local cluster (its workers see this machine's files) and
    False for a scheduler elsewhere (files are sent)."""
    import distributed

    cluster = None
    if address == "local" or address.startswith("local:"):
        cluster = local_cluster(parse_local(address))
        client, local = cluster.client, True
    else:
        try:
            client = distributed.Client(address, timeout=CONNECT_SECONDS)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as e:
            raise OcrError(f"cannot reach the Dask scheduler at {address} ({e}).") from None
        local = False
    runner = ClusterRunner(client, cluster, share_paths=local if share_paths is None else share_paths,
                           backend=backend)
    try:
        yield runner
    finally:
        runner.close()
