# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""The example notebooks (examples/*.ipynb) run top to bottom without an error, executed as
scripts/execute_notebooks.py does (nbclient, a python3 kernel of this interpreter)."""

import glob
import importlib.util
import os
import sys

import nbclient
import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbformat.v4 import new_notebook

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "examples", "*.ipynb")))


def load_script():
    path = os.path.join(ROOT, "scripts", "execute_notebooks.py")
    spec = importlib.util.spec_from_file_location("execute_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


execute = load_script().execute


def test_the_tutorial_is_among_the_notebooks():
    assert "tutorial.ipynb" in [os.path.basename(path) for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_without_error(path):
    notebook = execute(nbformat.read(path, as_version=4))
    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output.output_type == "error"]
    assert not errors


def test_a_failing_cell_fails_the_run_in_a_kernel_of_this_interpreter():
    notebook = new_notebook(cells=[new_code_cell("import sys\nprint(sys.executable)"),
                                   new_code_cell("raise ValueError('cell 2 fails')"),
                                   new_code_cell("print('not reached')")])
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="cell 2 fails"):
        execute(notebook, timeout=120)
    assert os.path.samefile(notebook.cells[0].outputs[0].text.strip(), sys.executable)
    assert not notebook.cells[2].outputs
