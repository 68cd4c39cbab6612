"""The notebooks run top to bottom (quick settings, offline)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", ["sampling_demo.ipynb", "evaluation.ipynb"])
def test_notebook_runs(name, monkeypatch):
    monkeypatch.setenv("VIDEOFLOW_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    # Committed without outputs, so what runs here is what a reader runs.
    assert not any(cell.get("outputs") for cell in notebook.cells
                   if cell.cell_type == "code")
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Every notebook shows pictures (grids, animations or plots).
    assert sum("image/png" in o.get("data", {}) or "image/gif" in
               o.get("data", {}) for o in outputs) >= 3
