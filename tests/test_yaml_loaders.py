"""The C and pure-Python YAML parsers give the same values, and errors read the same whichever parses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workloads import yamlio

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "experiments").rglob("*.yaml")) + sorted((ROOT / "arch").rglob("presets/*.yaml"))
needs_libyaml = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")


@needs_libyaml
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_parsers_give_the_same_values(path):
    text = path.read_text()
    assert yamlio._parse(yamlio._StrictCLoader, text, str(path)) == yamlio._parse(yamlio._StrictPyLoader, text,
                                                                                   str(path))


def test_the_files_exist():
    assert len(FILES) > 20


@needs_libyaml
def test_the_fast_parser_is_the_one_used(monkeypatch):
    used = []
    real = yamlio._parse
    monkeypatch.setattr(yamlio, "_parse", lambda loader, text, source: used.append(loader) or real(loader, text, source))
    assert yamlio.load_yaml("a: 1\n") == {"a": 1}
    assert used == [yamlio._StrictCLoader]


@pytest.mark.parametrize("text, words", [
    ("a: [1, 2\n", "malformed YAML"),
    ("a: *nothing\n", "nothing"),
    ("a: 1\na: 2\n", "a"),
])
def test_errors_name_the_problem_whichever_parser_runs(text, words):
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load_yaml(text, "x.yaml")
    assert "x.yaml" in str(err.value) and words in str(err.value)


def test_a_duplicate_key_is_refused_by_the_fast_parser_too():
    with pytest.raises(yamlio.YamlError, match="duplicate"):
        yamlio._parse(yamlio._StrictCLoader, "a: 1\na: 2\n", "x.yaml")


@pytest.mark.parametrize("loader", yamlio._LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize("text, where, kind", [
    ("a:\n  b: [1, " + "9" * 5000 + "]\n", "a.b.1 at line 2", "int"),  # over Python's int-from-text limit
    ("run:\n  date: 2026-13-45\n", "run.date at line 2", "timestamp"),
    ("- x: 2026-02-30 10:00:00\n", "0.x at line 1", "timestamp"),
])
def test_a_scalar_its_type_cannot_hold_is_an_input_error_naming_its_key(loader, text, where, kind):
    with pytest.raises(yamlio.YamlError) as err:
        yamlio._parse(loader, text, "x.yaml")
    message = str(err.value)
    assert message.startswith("x.yaml: ") and where in message and f"a YAML {kind}" in message and "quote" in message


@pytest.mark.parametrize("text, words", [
    ("a:\n  ? [1, 2]\n  : 3\n", "a list used as a mapping key at line 2, column 5"),
    ("? {x: 1}\n: 2\n", "a dict used as a mapping key at line 1"),
    ("a: 1\n\x0c\nb: 2\n", "character 0x000c at line 2, column 1"),  # a form feed
    ("a: 1\nb: x\x01y\n", "character 0x0001 at line 2, column 5"),
])
def test_keys_that_are_not_values_and_control_characters_are_input_errors(text, words):
    with pytest.raises(yamlio.YamlError) as err:
        yamlio.load_yaml(text, "x.yaml")
    assert str(err.value).startswith("x.yaml: ") and words in str(err.value)
