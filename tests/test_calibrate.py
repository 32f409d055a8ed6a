"""bench/calibrate.py: each dev.yaml question's evidence comes from the index built without its
author's questions (the matcher learns from them); eval.yaml's from the full index."""

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from faqbot import kb
from faqbot.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "engine_kb"
DEV = """\
questions:
  - q: "kan peeren holde ferie i juli"
    expect: peer-syg
    author: C
  - q: "kommer vores peer tilbage efter en indlæggelse"
    expect: peer-tilbagefald
    author: D
uncovered:
  - q: "hvad tjener en peer"
    author: D
out_of_scope:
  - q: "hvornår er julefrokosten"
    author: C
"""


@pytest.fixture(scope="module")
def calibrate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "bench" / "calibrate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibrate"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_dev_evidence_is_taken_without_its_author(calibrate: ModuleType, tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "kb")
    (tmp_path / "kb" / "dev.yaml").write_text(DEV, encoding="utf-8")
    matcher = Matcher(kb.load(tmp_path / "kb"))
    data = calibrate.collect(tmp_path / "kb", matcher)
    dev = [(s.group, s.kind) for s in data if s.group != "eval"]
    assert dev == [("dev-C", "in"), ("dev-C", "out"), ("dev-D", "in"), ("dev-D", "uncovered")]
    own = next(s for s in data if s.group == "dev-C" and s.kind == "in")
    evidence, _ = matcher.without_author("C").assess("kan peeren holde ferie i juli")
    assert evidence is not None
    assert own.features == tuple(float(getattr(evidence, name)) for name in calibrate.FIELDS)
    assert not own.right  # nothing but C's own question has its words
    learnt, ranked = matcher.assess("kan peeren holde ferie i juli")
    assert matcher.kb.items[ranked[0][0]].id == "peer-syg"  # the full index has learnt it
    assert learnt is not None and learnt.score > evidence.score
    evalset = kb.load_eval(FIXTURE / "eval.yaml", matcher.kb)
    first = next(s for s in data if s.group == "eval")
    full, _ = matcher.assess(evalset.questions[0].question)
    assert full is not None
    assert first.features == tuple(float(getattr(full, name)) for name in calibrate.FIELDS)
