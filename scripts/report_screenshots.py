"""Screenshots of report.html files in headless Chromium, to look at what a reader sees.

    python scripts/report_screenshots.py results/quickstart/report.html results/sweep/report.html --out shots

Needs a ``chromium`` (or ``chromium-browser`` / ``google-chrome``) on PATH (Debian:
``apt-get install chromium``). Each page is rendered 1280 px wide and as tall as
``--height``; the PNG goes to ``OUT/<folder name>.png``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args(argv)
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        print("no Chromium found: apt-get install chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for report in args.reports:
        target = args.out / f"{report.resolve().parent.name}.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size=1280,{args.height}", f"--screenshot={target}", report.resolve().as_uri()],
                       check=True, capture_output=True, timeout=120)
        print(f"{report} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
