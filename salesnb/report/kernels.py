"""Warm Jupyter kernels for the report's notebooks.

A kernel costs about 1.5 s of CPU to start and 1.3 s more to import pandas, matplotlib and
salesnb (benchmarks/results.md); a report runs three notebooks, a four-quarter batch twelve.
The pool starts its kernels and does those imports in the background (one report: once its
findings are built; a batch: at its start, so they overlap the first findings), hands each
notebook a warm kernel and, between notebooks, gives the kernel a fresh
namespace: ``get_ipython().reset(new_session=True)`` (user variables, the output history and the
execution count start anew), the notebook's working folder, and the matplotlib settings the
kernel had after its imports. Modules stay imported, which is the point.

A kernel whose notebook failed, timed out or died is shut down, not reused; the pool starts a
new one in its place. Kernels talk over Unix sockets in a folder of their own (TCP ports can be
taken between being picked and bound); the folders of a process that was killed are removed when
a later run starts a kernel. One that dies while starting is started again, and the
error of the last attempt quotes what the kernel wrote to stderr. papermill runs a notebook on a
given kernel through ``km=``; nbclient leaves a kernel manager it did not create running.
"""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ..paths import KERNEL_PID_FILE, owned_temp_folder

# What the report notebooks import, in the order they import it (the union of their first cells).
WARM_CODE = """\
from IPython.display import HTML, Markdown, display
import matplotlib
import matplotlib.pyplot as plt
import salesnb
from salesnb.render import labels, recommendations, summary, tables
from salesnb.render.charts import customers, revenue, theme
from salesnb.render.narrative import customers, revenue
from salesnb.findings import load_findings
# the first figure drawn loads the fonts: do it now, on a throw-away figure
# (through pyplot, so that the inline backend is set up now too)
_fig = plt.figure(figsize=(1, 1))
_fig.gca().set_title("warm")
_fig.savefig(__import__("io").BytesIO(), format="png")
plt.close(_fig)
import salesnb.report.kernels as _k
_k.KERNEL_RC = dict(matplotlib.rcParams)
del _fig, _k
"""

# Run (silently) before each notebook: a fresh namespace in the notebook's folder.
RESET_CODE = """\
get_ipython().reset(new_session=True)
import os as _os, matplotlib as _mpl, matplotlib.pyplot as _plt, salesnb.report.kernels as _k
_plt.close("all")
dict.update(_mpl.rcParams, _k.KERNEL_RC)
_os.chdir({cwd!r})
del _os, _mpl, _plt, _k
"""

KERNEL_RC: dict = {}   # set inside a pooled kernel by WARM_CODE

START_TIMEOUT = 120    # seconds for a kernel to start and import
START_ATTEMPTS = 3     # a kernel that dies while starting is started again, up to this many times in all
SOCKET_PREFIX = "salesnb-k-"   # the kernels' socket folders in the temp folder


class KernelStartError(RuntimeError):
    """A pooled kernel could not be made ready: it did not start, or its warm-up imports failed."""


class KernelDied(KernelStartError):
    """The kernel process died or did not answer while starting (worth starting again)."""


def quiet_kernel_manager(log_path: Path, socket_dir: Path | None = None):
    """A kernel manager whose kernel writes its own stderr (ipykernel's start-up and shutdown
    chatter) to ``log_path`` instead of the terminal; cell output is captured as usual.

    With ``socket_dir`` (from :func:`socket_folder`), a manager made without a transport (as
    nbclient makes papermill's own kernels) talks over Unix sockets in that folder."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            if socket_dir is not None and "transport" not in kw:
                kw.update(_transport(socket_dir))
            if socket_dir is not None and "connection_file" not in kw:
                # the connection file holds the kernel's signing key: in the private folder (0700),
                # so it goes with the folder, also when this process is killed
                kw["connection_file"] = str(socket_dir / "kernel.json")
            super().__init__(**kw)

        async def start_kernel(self, **kw):
            # start_kernel's keywords reach the kernel's Popen (jupyter_client's public API);
            # salesnb never restarts a kernel, which would reuse them
            kw.setdefault("stdout", subprocess.DEVNULL)
            if "stderr" not in kw:
                kw["stderr"] = open(log_path, "ab")  # noqa: SIM115 - the kernel process owns it
            try:
                launched = await super().start_kernel(**kw)
            finally:
                if hasattr(kw["stderr"], "close"):
                    kw["stderr"].close()
            _note_kernel_pid(self)
            return launched

    return QuietKernelManager


def _note_kernel_pid(km) -> None:
    """Write the kernel's process id into its folder: a kernel whose salesnb process was killed
    keeps running for a while (it has a session of its own) and would write its connection file
    again into a swept folder, so the sweep stops it first."""
    folder = Path(km.connection_file).parent if km.connection_file else None
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    if folder is not None and folder.name.startswith(SOCKET_PREFIX) and pid:
        try:
            (folder / KERNEL_PID_FILE).write_text(str(pid), encoding="ascii")
        except OSError:
            pass


def _manager_class(log_path: Path):
    """A quiet kernel manager that remembers the clients made for it, so their channels can be
    closed when a notebook is done (nbclient leaves them open on a kernel it does not own)."""

    class PooledKernelManager(quiet_kernel_manager(log_path)):
        def client(self, **kwargs):
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_salesnb_clients", []).append(kc)
            return kc

        def close_clients(self):
            for kc in self.__dict__.pop("_salesnb_clients", []):
                try:
                    kc.stop_channels()
                except Exception:  # noqa: BLE001 - closing sockets of a finished run
                    pass

    return PooledKernelManager


async def _run_code(km, code: str, timeout: float) -> None:
    """Execute ``code`` silently on ``km``'s kernel; raise KernelStartError if it fails."""
    import asyncio
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        msg_id = kc.execute(code, silent=True, store_history=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        from jupyter_core.utils import ensure_async
        while True:
            remaining = deadline - loop.time()
            try:
                # in short waits: a kernel killed meanwhile (Ctrl-C, the pool closing) is noticed
                # within a second, not at the end of the timeout
                reply = await kc.get_shell_msg(timeout=max(0.1, min(1.0, remaining)))
            except queue.Empty:
                if not await ensure_async(km.is_alive()):
                    raise KernelDied("the kernel died") from None
                if remaining <= 1.0:
                    raise KernelStartError(f"no reply within {timeout:.0f} s") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content.get("status") != "ok":
            raise KernelStartError(f"{content.get('ename', 'error')}: {content.get('evalue', '')}")
    finally:
        kc.stop_channels()
        clients = km.__dict__.get("_salesnb_clients", [])
        if kc in clients:
            clients.remove(kc)


class PooledKernel:
    """One started kernel: its manager (``km``, for papermill), its stderr log and the private
    folder of its sockets."""

    def __init__(self, km, log_path: Path, socket_dir: Path | None = None):
        self.km, self.log_path, self.socket_dir = km, log_path, socket_dir

    def prepare(self, cwd: Path, timeout: float = START_TIMEOUT) -> None:
        from jupyter_core.utils import run_sync
        # absolute: a reused kernel is still in the previous notebook's folder, where a path
        # relative to this process's folder (``--out reports``, the default) does not resolve
        run_sync(_run_code)(self.km, RESET_CODE.format(cwd=str(Path(cwd).resolve())), timeout)

    def kill(self) -> None:
        """Kill the kernel process at once (SIGKILL) and remove its files."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        try:
            if process is not None:
                process.kill()
        except OSError:
            pass
        remove_kernel_files(self.log_path, self.socket_dir)

    def release_clients(self) -> None:
        self.km.close_clients()

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync
        self.km.close_clients()
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        remove_kernel_files(self.log_path, self.socket_dir)


def log_tail(path: Path) -> str:
    """The last line a kernel wrote to its stderr log (what it said before it died), leaving out
    ipykernel's warning that TCP is not encrypted; "" when there is none."""
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
                 if ln.strip() and "without encryption" not in ln]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def socket_folder() -> Path | None:
    """A private folder for one kernel's Unix sockets, naming this process as its owner; None
    where the system has no Unix sockets (the kernel then uses TCP on localhost).

    With TCP, the client picks free ports, closes them and the kernel binds them a moment later:
    a kernel started meanwhile (the pool starts several at once) or any other process can take
    one first, and the kernel dies before it replies ("Address already in use"). Socket files in a
    folder of the kernel's own cannot be taken. Whoever asks for the folder removes it."""
    if os.name != "posix":
        return None
    return owned_temp_folder(SOCKET_PREFIX)


def kernel_files(prefix: str = "salesnb-kernel-") -> tuple[Path, Path | None]:
    """A new stderr log file and socket folder (:func:`socket_folder`) for one kernel, the log
    inside the folder; once the kernel has stopped, :func:`remove_kernel_files` removes both."""
    folder = socket_folder()
    if folder is not None:
        log = folder / f"{prefix}stderr.log"
        log.touch(mode=0o600)
        return log, folder
    fd, log = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.close(fd)
    return Path(log), folder


def remove_kernel_files(log_path: Path, socket_dir: Path | None) -> None:
    Path(log_path).unlink(missing_ok=True)
    if socket_dir is not None:
        shutil.rmtree(socket_dir, ignore_errors=True)


def _transport(folder: Path | None) -> dict:
    return {"transport": "ipc", "ip": str(folder / "k")} if folder is not None else {}


def start_kernel(kernel_name: str = "python3", cwd: Path | None = None,
                 warm_code: str = WARM_CODE, attempts: int = START_ATTEMPTS, starting=None) -> PooledKernel:
    """Start one kernel and run ``warm_code`` in it (blocking). A kernel that dies while it
    starts is started again (``attempts`` in all); the last error carries the kernel's stderr.
    ``starting``: a set that holds the kernel while it starts (so that it can be killed then)."""
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return _start_kernel_once(kernel_name, cwd, warm_code, starting)
        except KernelDied:
            if attempt >= attempts:
                raise


def _start_kernel_once(kernel_name: str, cwd: Path | None, warm_code: str, starting=None) -> PooledKernel:
    from jupyter_core.utils import run_sync
    log_path, socket_dir = kernel_files()
    try:
        extra = {"connection_file": str(socket_dir / "kernel.json")} if socket_dir is not None else {}
        km = _manager_class(log_path)(kernel_name=kernel_name, **_transport(socket_dir), **extra)
    except BaseException:
        remove_kernel_files(log_path, socket_dir)
        raise
    kernel = PooledKernel(km, log_path, socket_dir)
    if starting is not None:
        starting.add(kernel)
    try:
        run_sync(km.start_kernel)(extra_arguments=["--HistoryManager.hist_file=:memory:"],
                                  cwd=str(cwd or Path.cwd()))
        if warm_code:
            run_sync(_run_code)(km, warm_code, START_TIMEOUT)
    except KernelStartError as exc:   # the warm-up code failed: the kernel runs, the imports do not
        tail = log_tail(log_path)
        kernel.shutdown()
        raise KernelStartError(f"{exc}{'; kernel said: ' + tail if tail else ''}") from exc
    except Exception as exc:  # noqa: BLE001 - the kernel died or did not answer: say what it wrote
        tail = log_tail(log_path)
        kernel.shutdown()
        raise KernelDied(f"the {kernel_name} kernel did not start ({type(exc).__name__}: {exc})"
                         + (f"; kernel said: {tail}" if tail else "")) from exc
    except BaseException:
        kernel.shutdown()
        raise
    finally:
        if starting is not None:
            starting.discard(kernel)
    return kernel


class KernelPool:
    """``size`` warm kernels, started in the background as soon as the pool is made.

    ``with pool.kernel(cwd) as k:`` waits for a free warm kernel, resets it for a new notebook
    in ``cwd`` and gives it back afterwards; if the block raises, the kernel is shut down and a
    new one is started in its place. ``close()`` shuts every kernel down.
    """

    def __init__(self, size: int, kernel_name: str = "python3", warm_code: str = WARM_CODE):
        self.size = max(1, int(size))
        self.kernel_name, self.warm_code = kernel_name, warm_code
        self._free: queue.Queue = queue.Queue()
        self._all: list[PooledKernel] = []
        self._lock = threading.Lock()
        self._closed = False
        self._starting: set[PooledKernel] = set()
        self._woken = False
        for _ in range(self.size):
            self._start_one()

    def __repr__(self) -> str:
        return f"KernelPool(size={self.size}, started={len(self._all)}, free={self._free.qsize()})"

    def _start_one(self) -> None:
        def target():
            try:
                kernel = start_kernel(self.kernel_name, warm_code=self.warm_code, starting=self._starting)
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for a kernel
                self._free.put(exc)
                return
            with self._lock:
                if self._closed:
                    kernel.shutdown()
                    return
                self._all.append(kernel)
            self._free.put(kernel)

        # jupyter_client's modules import each other: imported from this thread while papermill
        # imports it on the caller's ("partially initialized module 'jupyter_client.manager'"), one
        # side fails. Import it here, before the thread.
        import jupyter_client.manager  # noqa: F401
        threading.Thread(target=target, name="salesnb-kernel-start", daemon=True).start()

    @contextmanager
    def kernel(self, cwd: Path):
        item = self._free.get()
        if isinstance(item, BaseException):
            # a kernel that could not start: try again once more for whoever comes next
            with self._lock:
                closed = self._closed
            if not closed:
                self._start_one()
            else:
                self._free.put(item)   # for the next one waiting
            raise item
        kernel: PooledKernel = item
        try:
            kernel.prepare(cwd)
            yield kernel
        except BaseException:
            self._discard(kernel)
            raise
        kernel.release_clients()
        self._free.put(kernel)

    def _discard(self, kernel: PooledKernel) -> None:
        with self._lock:
            if kernel in self._all:
                self._all.remove(kernel)
            closed = self._closed
        kernel.shutdown()
        if not closed:
            self._start_one()

    def _wake_waiters(self) -> None:
        """Whoever still waits for a kernel (a notebook of a report being stopped) gets an error."""
        with self._lock:
            if self._woken:
                return
            self._woken = True
        for _ in range(self.size + 8):
            self._free.put(KernelStartError("the run was stopped"))

    def kill(self) -> None:
        """Ctrl-C: kill every kernel process at once (SIGKILL), those still starting too, and start
        no new one. The notebooks running on them fail within a second (nbclient sees the kernel
        die); their client channels are left to their own threads (closing a socket from another
        thread can abort the process inside libzmq). close() still shuts the pool down."""
        with self._lock:
            self._closed = True
            kernels = list(self._all) + list(self._starting)
        self._wake_waiters()
        for kernel in kernels:
            kernel.kill()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            kernels, self._all = list(self._all), []
        self._wake_waiters()
        # kernels still starting (their warm-up imports take seconds): killed now, and their
        # files removed, rather than left to a thread that may not outlive this process
        for kernel in list(self._starting):
            kernel.kill()
        threads = [threading.Thread(target=k.shutdown, daemon=True) for k in kernels]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=15)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["KernelPool", "PooledKernel", "start_kernel", "KernelStartError", "KernelDied", "log_tail",
           "kernel_files", "remove_kernel_files", "socket_folder", "quiet_kernel_manager", "WARM_CODE", "RESET_CODE"]
