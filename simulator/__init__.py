"""ruralsim: rural connectivity coverage simulator.

>>> from simulator import load_scenario, run
>>> result = run(load_scenario("scenarios/rural-district.yaml"))  # doctest: +SKIP
>>> result.summary["people_covered"]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .errors import ScenarioError  # noqa: E402
from .io.scenario_file import load_scenario, parse_scenario  # noqa: E402
from .pipeline.runner import ScenarioResult, run, validate  # noqa: E402
from .planning import PlanResult, plan  # noqa: E402
from .programme import ProgrammeResult, programme  # noqa: E402
from .schema import Scenario  # noqa: E402

__all__ = ["ScenarioError", "Scenario", "ScenarioResult", "load_scenario", "parse_scenario",
           "PlanResult", "plan", "ProgrammeResult", "programme", "run", "validate", "__version__"]
