"""The built-in paper reproductions and how they are run.

``PAPERS`` lists every paper ``xpusim reproduce`` knows; each names the module whose
``CHECKS`` tuple computes its claims. Modules are imported only when their paper is
run, so listing the papers costs nothing. To add a paper: write a module in this
package with a ``CHECKS`` tuple of :class:`~simulator.reproduce.claims.Check` and add
one :class:`~simulator.reproduce.claims.Paper` line below (docs/reproduce.md).

:func:`run` computes the claims of the chosen papers; a check that raises becomes a
failed claim naming the error, so one broken model never hides the others' results.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from arch.registry import UnknownNameError
from simulator import engine_warmup
from simulator.reproduce.claims import Check, Claim, Paper, Verdict, failed_claim

# One line per paper; keep each entry on its own lines so adding one touches nothing else.
PAPERS: tuple[Paper, ...] = (
    Paper("neupims", "NeuPIMs (Heo et al., ASPLOS'24) and its artefact (casys-kaist/NeuPIMs)",
          "simulator.reproduce.neupims", "REFERENCE_DATA.md Headline results; docs/pim.md (artefact run)"),
    Paper("a100", "A100 calibration: LLMCompass's measured A100 kernels and GPT-3 175B layers (ISCA'24)",
          "simulator.reproduce.a100", "tests/data/a100_*_measured.csv (PrincetonUniversity/LLMCompass)"),
    Paper("lut-tensor-core", "LUT Tensor Core (Mo et al., ISCA'25)", "simulator.reproduce.lut_tensor_core",
          "arch/lut/published.py, arch/lut/energy.py (LUT_AND_WAFER.md §1.2)"),
    Paper("t-mac", "T-MAC (Wei et al., EuroSys'25)", "simulator.reproduce.tmac",
          "arch/cpu/published.py (microsoft/T-MAC README and profiling)"),
    Paper("lut-gemm", "LUT-GEMM (Park et al., ICLR'24)", "simulator.reproduce.lut_gemm",
          "arch/lut/published.py (LUT_AND_WAFER.md §1.2)"),
    Paper("duplex", "Duplex (MICRO'24)", "simulator.reproduce.duplex", "REFERENCE_DATA.md Headline results"),
    Paper("scalesim-vit", "SCALE-Sim v3 (Raj et al., ISPASS'25): ViT-base claims and SCALE-Sim 3.0.0 GEMM cycles",
          "simulator.reproduce.scalesim_vit", "REFERENCE_DATA.md Headline results; tests/data/scalesim_golden.json"),
    Paper("waferllm", "WaferLLM (He et al., OSDI'25)", "simulator.reproduce.waferllm",
          "arch/wafer/published.py (LUT_AND_WAFER.md §2.2, §2.3)"),
    Paper("attention", "FlashDecoding, FlashDecoding++ (MLSys'24), FlashAttention-2, Two-Pass Softmax",
          "simulator.reproduce.attention", "PAPERS.md; docs/attention.md"),
)


def paper(name: str) -> Paper:
    for known in PAPERS:
        if known.name == name:
            return known
    raise UnknownNameError("paper", name, [p.name for p in PAPERS])


def checks(chosen: Paper) -> tuple[Check, ...]:
    """The paper's checks (its module imported now)."""
    return tuple(importlib.import_module(chosen.module).CHECKS)


@dataclass
class ReproduceRun:
    """The claims of one ``xpusim reproduce`` run, with the wall time each paper took."""

    claims: list[Claim] = field(default_factory=list)
    seconds_by_paper: dict[str, float] = field(default_factory=dict)
    quick: bool = False

    def counts(self) -> dict[str, int]:
        return {v.value: sum(1 for c in self.claims if c.verdict is v) for v in Verdict}

    @property
    def failed(self) -> list[Claim]:
        return [c for c in self.claims if c.verdict is Verdict.FAIL]

    def to_dict(self) -> dict:
        """Plain data for the report writers (which may not import this package)."""
        titles = {p.name: p.title for p in PAPERS}
        return {"quick": self.quick, "counts": self.counts(), "seconds_by_paper": dict(self.seconds_by_paper),
                "seconds": sum(self.seconds_by_paper.values()),
                "papers": [{"name": n, "title": titles.get(n, n), "seconds": s}
                           for n, s in self.seconds_by_paper.items()],
                "claims": [c.row() for c in self.claims]}


def run(names: Sequence[str] = (), quick: bool = False,
        on_check: Callable[[str, str], None] | None = None) -> ReproduceRun:
    """Compute every claim of the named papers (all when ``names`` is empty); ``quick``: only quick checks.

    Claims come in paper and check order. While a child compiles the event kernel
    (:mod:`simulator.engine_warmup`) the ``contended`` checks run last, so that they find it compiled
    rather than simulate in SimPy meanwhile; the claims do not depend on the order.
    """
    chosen = [paper(n) for n in names] if names else list(PAPERS)
    result = ReproduceRun(quick=quick)
    todo: list[tuple[str, Check | None, list[Claim]]] = []  # (paper, check, claims); no check: module failed
    for one in chosen:
        started = time.perf_counter()
        try:
            found = checks(one)
        except Exception as err:  # noqa: BLE001 -- a paper whose module cannot load is a failed claim
            failed = failed_claim(one.name, "module", one.module, f"{type(err).__name__}: {err}")
            todo.append((one.name, None, [failed]))
            found = ()
        result.seconds_by_paper[one.name] = time.perf_counter() - started  # importing its module
        todo += [(one.name, check, []) for check in found if check.quick or not quick]
    later = engine_warmup.running()
    for name, check, claims in sorted(todo, key=lambda item: later and item[1] is not None and item[1].contended):
        if check is None:
            continue
        if on_check is not None:
            on_check(name, check.name)
        started = time.perf_counter()
        claims.extend(run_check(name, check))
        result.seconds_by_paper[name] += time.perf_counter() - started
    result.claims = [claim for _, _, claims in todo for claim in claims]
    return result


def run_check(paper_name: str, check: Check) -> list[Claim]:
    try:
        return list(check.compute())
    except Exception as err:  # noqa: BLE001 -- a broken check is a failed claim, never a lost report
        return [failed_claim(paper_name, check.name, check.text or check.name, f"{type(err).__name__}: {err}")]
