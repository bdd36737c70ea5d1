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


def test_every_scenario_key_has_a_meaning():
    import inspect

    from simulator import schema

    missing = [f"{name}.{key}" for name, cls in vars(schema).items()
               if inspect.isclass(cls) and issubclass(cls, schema.BaseModel)
               and cls.__module__ == schema.__name__
               for key, f in cls.model_fields.items() if not (f.description or "").strip()]
    assert missing == []
    # and the generated reference shows them: no row with an empty meaning column
    rows = [ln for ln in (ROOT / "docs" / "scenario.md").read_text().splitlines()
            if ln.startswith("| `")]
    assert rows and all(ln.rstrip().rsplit("|", 2)[-2].strip() for ln in rows)


def test_json_schema_is_current_and_scenarios_point_at_it(tmp_path):
    import json

    from simulator.cli import main
    from simulator.schema import json_schema

    # Regenerate with: ruralsim schema --out docs/scenario.schema.json
    shipped = json.loads((ROOT / "docs" / "scenario.schema.json").read_text())
    assert shipped == json_schema()
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text()) == shipped
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/scenario.schema.json", path


def test_json_schema_accepts_the_shipped_scenarios_and_rejects_a_typo():
    import jsonschema
    import yaml

    from simulator.schema import json_schema

    validator = jsonschema.Draft202012Validator(json_schema())
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        errors = list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert errors == [], (path, errors[:1])
    bad = yaml.safe_load((ROOT / "scenarios" / "rural-district.yaml").read_text())
    bad["region"]["widht_km"] = 10
    assert any("widht_km" in e.message for e in validator.iter_errors(bad))


def test_misspelt_key_suggests_the_right_one(tmp_path):
    from simulator import load_scenario
    from simulator.errors import ScenarioError

    p = tmp_path / "typo.yaml"
    p.write_text("name: typo\nregion:\n  widht_km: 10\n")
    import pytest

    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "unknown key 'widht_km' (did you mean 'width_km'?)" in str(e.value)
