"""Documentation that is generated from code stays in step with it."""

from simulator.schema import markdown_reference

from .conftest import ROOT


def test_scenario_reference_is_current():
    # Regenerate with:
    #   python -c "from simulator.schema import markdown_reference as m; open('docs/scenario.md','w').write(m())"
    assert (ROOT / "docs" / "scenario.md").read_text() == markdown_reference()


def test_readme_shows_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[dev]" && ruralsim run scenarios/rural-district.yaml' in text
    assert "python -m pytest" in text
    assert (ROOT / "scenarios" / "rural-district.yaml").exists()
