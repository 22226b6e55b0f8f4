"""``xpusim reproduce`` as a command: its exit status follows the verdicts, on a paper made up for the test
and (slow) on every registered paper."""

import json
import sys
import types

import pytest

from simulator.cli import main
from simulator.reproduce import registry
from simulator.reproduce.claims import Check, Claim, Paper, Verdict

FAKE = Paper("made-up", "A paper made up for the test", "tests_made_up_paper", "this test")


def install(monkeypatch, computed: float, residual: str | None = None) -> None:
    """Register FAKE with one claim: published 10, ±10 %, xpusim's value ``computed``."""
    module = types.ModuleType(FAKE.module)

    def headline():
        return [Claim(FAKE.name, "headline", "a made-up headline", 10.0, "this test", computed, 0.10, "x",
                      residual=residual)]

    module.CHECKS = (Check("headline", headline, quick=True),)
    monkeypatch.setitem(sys.modules, FAKE.module, module)
    monkeypatch.setattr(registry, "PAPERS", registry.PAPERS + (FAKE,))


def claims_json(folder) -> list[dict]:
    return json.loads((folder / "reproduce" / "claims.json").read_text(encoding="utf-8"))["claims"]


def test_list_names_a_newly_registered_paper(monkeypatch, capsys):
    install(monkeypatch, 10.0)
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert "made-up: A paper made up for the test" in out
    assert "checks: headline; quick: headline" in out


@pytest.mark.parametrize("computed, residual, status, verdict", [
    (10.5, None, 0, Verdict.PASS),               # within ±10 %
    (12.0, None, 1, Verdict.FAIL),               # outside, no reason: the command fails
    (12.0, "documented why", 0, Verdict.RESIDUAL),  # outside, with a reason: a known residual
])
def test_the_exit_status_follows_the_verdict(monkeypatch, tmp_path, capsys, computed, residual, status, verdict):
    install(monkeypatch, computed, residual)
    assert main(["reproduce", "made-up", "--out", str(tmp_path)]) == status
    (row,) = claims_json(tmp_path)
    assert row["verdict"] == verdict.value and row["computed"] == computed
    out = capsys.readouterr().out
    assert ("fail: made-up: a made-up headline: 12 against 10" in out) is (verdict is Verdict.FAIL)


def test_a_paper_whose_module_is_missing_fails_the_run(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "PAPERS", registry.PAPERS + (FAKE,))  # no module of that name
    assert main(["reproduce", "made-up", "--out", str(tmp_path)]) == 1
    (row,) = claims_json(tmp_path)
    assert row["verdict"] == "fail" and "ModuleNotFoundError" in row["error"]


@pytest.mark.slow
def test_full_reproduce_command_exits_0_with_every_miss_explained(tmp_path, capsys):
    status = main(["reproduce", "--out", str(tmp_path)])
    rows = claims_json(tmp_path)
    assert {r["paper"] for r in rows} == {p.name for p in registry.PAPERS}
    unexplained = [(r["paper"], r["key"], r["error"]) for r in rows
                   if r["verdict"] != "pass" and not (r["residual"] and r["error"] is None)]
    assert unexplained == []
    assert status == 0, capsys.readouterr().out
