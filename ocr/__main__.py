"""``python -m ocr`` (and the ``ocr`` command): a worker starts before the command line is imported.

NumPy's BLAS (OpenBLAS) starts a thread per core as NumPy is imported, and they spin a while: 0.19 s of
CPU in a cold command (0.30 against 0.11 s to import the command line), taken from the workers that
read its page. The command's own arithmetic is elementwise, so it asks for one, unless told otherwise.
"""

import os
import sys


def main(prog: str = "ocr") -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy is imported (and for what it starts)
    from .engines import spawn

    spawn.early(sys.argv[1:])
    from .cli import run

    run(prog)


if __name__ == "__main__":
    main("python -m ocr")
