"""``python -m ocr`` (and the ``ocr`` command): a worker starts before the command line is imported."""

import sys


def main(prog: str = "ocr") -> None:
    from .engines import spawn

    spawn.early(sys.argv[1:])
    from .cli import run

    run(prog)


if __name__ == "__main__":
    main("python -m ocr")
