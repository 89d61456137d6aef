"""JupyterLab driven by Playwright over the system Chromium (used by ``test_jupyterlab.py``).

A JupyterLab server on a loopback port with a random token serves a folder of notebooks;
Chromium (``/usr/bin/chromium``, never a downloaded browser) opens a notebook, runs all cells and
reads back what an analyst would see. The browser reaches nothing but the loopback server.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--proxy-server=127.0.0.1:9"]
# (loopback stays direct: Chromium bypasses a proxy for 127.0.0.1 unless told otherwise)

#: every output of the notebook: its kind, the text a reader sees, and what the checks need
OUTPUTS_JS = r"""
() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell')).map((cell, index) => ({
  index,
  kind: cell.classList.contains('jp-CodeCell') ? 'code' : cell.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw',
  prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
  outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
    mime: o.getAttribute('data-mime-type') || '',
    text: o.innerText,
    stderr: o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr',
    error: o.getAttribute('data-mime-type') === 'application/vnd.jupyter.error' || !!o.querySelector('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]'),
    math: o.querySelectorAll('mjx-container, .MathJax, .MathJax_Display, .katex').length,
    links: Array.from(o.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
    items: Array.from(o.querySelectorAll('li, p')).map(e => e.innerText.trim()).filter(t => t),
    images: o.querySelectorAll('img').length,
    // what a reader sees of the tables and charts: the header row, how far the output scrolls
    // sideways (0: it fits), each image's drawn width beside its own
    tables: Array.from(o.querySelectorAll('table')).map(t => Array.from(t.querySelectorAll('thead th')).map(th => th.innerText.trim())),
    overflow: o.scrollWidth - o.clientWidth,
    width: o.clientWidth,
    drawn: Array.from(o.querySelectorAll('img')).map(i => [Math.round(i.getBoundingClientRect().width), i.naturalWidth]),
  })),
}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``with JupyterLab(folder) as lab:`` a server for ``folder``; ``lab.url(path)`` opens a notebook."""

    def __init__(self, folder: Path, log: Path):
        self.folder, self.log_path = Path(folder), Path(log)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.proc = None

    def __enter__(self):
        settings = self.folder.parent / "lab-settings"
        # render every cell (JupyterLab 4 windowing would leave cells out of view unrendered)
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True, exist_ok=True)
        (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        # no "get notified about news?" toast (and no request for the news)
        apputils = settings / "@jupyterlab" / "apputils-extension"
        apputils.mkdir(parents=True, exist_ok=True)
        (apputils / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(self.folder.parent / "jupyter-config"),
               "JUPYTER_RUNTIME_DIR": str(self.folder.parent / "jupyter-runtime")}
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.folder}",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self.folder.parent / 'ws'}",
               "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.folder,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2):
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not start: {self.log_path.read_text()[-3000:]}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/lab/tree/{path}?token={self.token}&reset"

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def run_all(page, url: str, *, timeout_s: float = 240) -> dict:
    """Open ``url`` (a notebook), Run All, wait for the kernel to go idle; the outputs and the console."""
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error",) else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    outside: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            return route.continue_()
        outside.append(route.request.url)
        return route.abort()

    page.route("**/*", only_loopback)
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    # the kernel is up: the session is ready, its kernel connected and idle
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.ready")
    page.wait_for_function("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext.session; "
                           "return s && s.kernel && s.kernel.connectionStatus === 'connected' && "
                           "s.kernel.status === 'idle'; }", timeout=90_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    started = time.monotonic()
    code_cells = page.locator(".jp-Notebook .jp-CodeCell").count()
    done = ("(n) => { const p = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))"
            ".map(e => e.textContent); return p.length === n && p.every(t => /\\[\\d+\\]/.test(t)); }")
    while not page.evaluate(done, code_cells):
        # JupyterLab may ask which kernel to start: the notebook's own, as an analyst would answer
        # (which cancels the Run All that asked: run all again once it is answered)
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
            page.wait_for_timeout(2000)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"Run All did not finish in {timeout_s:.0f} s")
        page.wait_for_timeout(500)
    seconds = time.monotonic() - started
    page.wait_for_timeout(1500)  # MathJax typesets after the outputs land
    # back to the top (JupyterLab scrolls inside its panel): the screenshot shows the first outputs
    page.evaluate("() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook')"
                  ".forEach(e => { e.scrollTop = 0; })")
    return {"cells": page.evaluate(OUTPUTS_JS), "console": console, "outside": outside, "seconds": seconds}


def shoot_outputs(page, folder: Path, stem: str) -> list[Path]:
    """A screenshot of each code cell's outputs (``<stem>-NN.png``, NN its index): the full-page
    screenshot shows only the top, as JupyterLab scrolls inside its own panel. The window is made
    as tall as the cell (up to 16,000 px), or what is out of view would come out blank."""
    shots = []
    cells = page.locator(".jp-Notebook .jp-Cell")
    width = page.viewport_size["width"]
    for index in range(cells.count()):
        if not cells.nth(index).locator(".jp-Cell-outputWrapper .jp-OutputArea-child").count():
            continue
        wrapper = cells.nth(index).locator(".jp-Cell-outputWrapper")
        height = wrapper.evaluate("e => e.getBoundingClientRect().height")
        page.set_viewport_size({"width": width, "height": int(min(max(1600, height + 400), 16_000))})
        path = folder / f"{stem}-{index:02d}.png"
        wrapper.screenshot(path=str(path))
        shots.append(path)
    return shots
