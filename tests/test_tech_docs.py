"""docs/technology.md is the current output of scripts/make_tech_table.py."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_technology_page_is_current():
    script = ROOT / "scripts" / "make_tech_table.py"
    spec = importlib.util.spec_from_file_location("make_tech_table", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = (ROOT / "docs" / "technology.md").read_text(encoding="utf-8")
    assert page == module.render(), "run: python scripts/make_tech_table.py"
