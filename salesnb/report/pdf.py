"""``report.pdf``: report.html printed by the system's headless Chromium, every network request blocked."""
from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

from ..errors import ReportError
from ..paths import owned_temp_folder
from .messages import one_line
from .publish import rmtree


CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


PDF_TIMEOUT = 180


def find_chromium() -> str | None:
    env = os.environ.get("SALESNB_CHROMIUM")
    for cand in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        path = shutil.which(cand) if not os.path.isabs(cand) else (cand if os.access(cand, os.X_OK) else None)
        if path:
            return path
    return None


def require_chromium() -> str:
    path = find_chromium()
    if not path:
        raise ReportError("Chromium is needed for --pdf: apt-get install chromium",
                          hint="or run without --pdf (report.html is written either way)")
    return path


def chromium_args(chromium: str, user_data_dir: str) -> list[str]:
    """Headless Chromium with every network request blocked (the report needs none)."""
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
            "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND"]


def render_pdf(html_path: Path, pdf_path: Path, timeout: int = PDF_TIMEOUT) -> Path:
    chromium = require_chromium()
    profile_dir = owned_temp_folder("salesnb-chromium-")   # swept by a later run if this one is killed
    with ExitStack() as cleanup:
        cleanup.callback(rmtree, profile_dir)
        profile = str(profile_dir)
        cmd = chromium_args(chromium, profile) + [f"--print-to-pdf={pdf_path}", "--no-pdf-header-footer",
                                                  Path(html_path).resolve().as_uri()]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish {pdf_path.name} within {timeout} s.",
                              hint="run again, or without --pdf") from None
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        last = [ln for ln in (proc.stderr or "").splitlines() if ln.strip() and "dbus" not in ln][-1:]
        raise ReportError(f"Chromium could not print {pdf_path.name} (exit {proc.returncode})"
                          + (f": {one_line(last[0])}" if last else "."), hint="run again, or without --pdf")
    return pdf_path
