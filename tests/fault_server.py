"""`streamlit run`, with the workspace store's writes failing as a control file says (tests/faults.py's
fallback where the machine does not allow mounting a small or read-only filesystem):

    OCR_TEST_FAULTS=/path/control python tests/fault_server.py run app.py --server.port ...

The control file holds "full", "read-only" or nothing; the test writes it while the server runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import CONTROL, plug  # noqa: E402 (the repository on the path first)

plug(Path(os.environ[CONTROL]))

from streamlit.web import cli  # noqa: E402

if __name__ == "__main__":
    cli.main(prog_name="streamlit")
