"""The documentation site builds with Sphinx, warnings as errors, offline.

The test builds a copy of docs/ (autosummary writes its API stubs into the copy, not the
repository) with the notebooks not executed, so it stays fast; CI (.ci/run) also builds the
site with the notebooks executed.
"""

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

pytest.importorskip("sphinx")
pytest.importorskip("myst_nb")
pytest.importorskip("numpydoc")


@pytest.mark.slow
def test_docs_build_with_warnings_as_errors(tmp_path):
    src = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", src, symlinks=False,
                    ignore=shutil.ignore_patterns("_build", "api"))
    out = tmp_path / "html"
    env = dict(os.environ, RURALSIM_DOCS_EXECUTE="off")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q",
                           "-b", "html", str(src), str(out)], capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    # user guide, generated key reference, notebooks and the numpydoc API reference
    for page in ("index", "quickstart", "outputs", "scenario", "models", "economics",
                 "validation", "scale", "notebooks/03-deployment-options",
                 "api/simulator.io.maplayers", "api/simulator.radio.propagation.hata"):
        assert (out / f"{page}.html").is_file(), page
    api = (out / "api" / "simulator.plotting.html").read_text()
    assert "plot_coverage_map" in api and "Parameters" in api
