"""``ocr-workbench``: serve the app from any folder, once the package is installed.

It is ``streamlit run`` on the installed ``workbench/app.py`` with the project's Streamlit options given
as flags (the repository's ``.streamlit/config.toml`` is read only when Streamlit starts in the
repository's folder). Flags given to ``ocr-workbench`` are passed on after them and win, e.g.
``ocr-workbench --server.port 8600 --server.headless true``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

# The same options as .streamlit/config.toml (a test keeps the two equal).
CONFIG = {
    "client.showErrorDetails": "none",  # people see plain sentences; a traceback goes to the console only
    "client.toolbarMode": "viewer",
    "client.showErrorLinks": "false",  # an error box offers no links to outside services
    "browser.gatherUsageStats": "false",
    "runner.magicEnabled": "false",
    "theme.light.primaryColor": "#2563eb",  # a light and a dark theme: the browser's setting chooses
    "theme.dark.primaryColor": "#2563eb",
    "server.maxUploadSize": "50",  # MB a file: uploads stay in their session's memory
    "server.enableXsrfProtection": "true",
    "global.maxCachedMessageAge": "20",  # pictures kept 20 runs in the browser: no "Cached ForwardMsg MISS"
}


def command(args: Sequence[str] = ()) -> list[str]:
    """The arguments of ``streamlit``: run the app file with the project's options, then ``args``."""
    return ["run", str(APP), *(f"--{name}={value}" for name, value in CONFIG.items()), *args]


def main(argv: Sequence[str] | None = None) -> None:
    """Start the app's server (blocks until it is stopped)."""
    from streamlit.web import cli

    cli.main(args=command(sys.argv[1:] if argv is None else argv), prog_name="ocr-workbench")


if __name__ == "__main__":
    main()
