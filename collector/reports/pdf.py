"""The governance review as PDF: the same HTML, printed by a headless Chromium.

Chromium's print-to-PDF was chosen over WeasyPrint because the browser the tests already
open the HTML in is the one that prints it: one rendering of the inline SVG charts and the
print styles (`@page`, the summary's page break), no second layout engine with its own SVG
support, and nothing more to install from PyPI (WeasyPrint needs Pango from the system).
The page has no script and a CSP forbidding every request; as root (a container), Chromium
only runs with its sandbox off (`--no-sandbox`), which is then passed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120.0


class PdfError(Exception):
    pass


def browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError("--format pdf needs Chromium (apt-get install chromium); none of "
                   f"{', '.join(BROWSERS)} is on PATH")


def print_pdf(html: str, out: Path, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Write `html` as a PDF file at `out` (A4, the page's own @page margins)."""
    binary = browser()
    with tempfile.TemporaryDirectory(prefix="regie-report-") as scratch:
        page = Path(scratch) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = Path(scratch) / "report.pdf"
        argv = [binary, "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-extensions", "--no-first-run", "--no-pdf-header-footer",
                f"--user-data-dir={Path(scratch) / 'profile'}",
                f"--print-to-pdf={target}", page.as_uri()]
        if os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                    check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not print the report within {timeout:g} s") from None
        if not target.exists() or not target.read_bytes().startswith(b"%PDF"):
            detail = (result.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise PdfError(f"Chromium did not print the report (exit {result.returncode}: "
                           f"{detail[0][:200]})")
        shutil.move(str(target), out)
