import os
from pathlib import Path

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# In CI (CI set, as .ci/run does) the property tests draw the same examples every run, so a
# red CI is a regression and never a new random draw; local runs keep exploring new ones.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def data_dir():
    return DATA


os.environ.setdefault("MPLBACKEND", "Agg")
