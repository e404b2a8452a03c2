# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Executes the example notebooks and writes their outputs into them, in place.

Each notebook runs top to bottom in a fresh `python3` kernel of this interpreter (nbclient, over
local sockets), from the repository root; a cell that raises stops the run and leaves the file
unchanged. Execution counts and timings are not stored, so a rerun changes the file only where an
output changes (the notebooks fix their seeds).

Run:  .venv/bin/python scripts/execute_notebooks.py [NOTEBOOK ...]   (default: examples/*.ipynb)
"""

import argparse
import glob
import os
import sys
import time

import nbclient
import nbformat
from traitlets.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 300  # per cell


def execute(notebook, timeout=TIMEOUT_S):
    """Runs `notebook` (a `NotebookNode`, changed in place) in a python3 kernel from the repository
    root; raises `nbclient.exceptions.CellExecutionError` if a cell raises."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the kernel inherits the environment
    # Local sockets (ipc) rather than unencrypted TCP, which ipykernel warns about.
    config = Config({"KernelManager": {"transport": "ipc"}})
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     record_timing=False, resources={"metadata": {"path": ROOT}},
                                     config=config)
    return client.execute()


def strip_execution_counts(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*",
                        default=sorted(glob.glob(os.path.join(ROOT, "examples", "*.ipynb"))))
    args = parser.parse_args(argv)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        execute(notebook)
        strip_execution_counts(notebook)
        nbformat.validate(notebook)
        nbformat.write(notebook, path)
        print(f"{path}: executed in {time.perf_counter() - start:.0f} s, "
              f"{os.path.getsize(path) / 1024:.0f} kB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
