"""bench/calibrate.py: each dev.yaml question's evidence comes from the index built without its
author's questions (the matcher learns from them); eval.yaml's from the full index."""

import dataclasses
import importlib.util
import math
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
    _, outside, _ = matcher.without_author("C").judge("kan peeren holde ferie i juli")
    assert outside is not None
    assert own.outside == tuple(float(getattr(outside, name)) for name in calibrate.OUTSIDE)


def _sample(calibrate: ModuleType, kind: str, off_topic: float, **known: object) -> object:
    """A question whose answer is certain (in scope: right, answered) and whose only outside
    evidence is ``off_topic``."""
    features = (0.0,) * len(calibrate.FIELDS)
    outside = (off_topic, 0.0, 0.0, 0.0, 0.0, 0.0)
    return calibrate.Sample(features, 1.0, kind == "in", kind, "dev-C", outside, True, **known)


def test_the_out_of_scope_model_is_fitted_on_in_against_out_of_scope(
    calibrate: ModuleType,
) -> None:
    """Off topic in 1 of 20 in-scope and 9 of 10 out-of-scope questions: the fitted model
    gives an off-topic question the higher probability, and the two kinds weigh the same."""
    data = [_sample(calibrate, "in", float(i == 0)) for i in range(20)]
    data += [_sample(calibrate, "out", float(i < 9)) for i in range(10)]
    data.append(calibrate.Sample((), 0.0, False, "uncovered", "dev-C"))  # never fitted on
    model = calibrate.fit_out_of_scope(data)
    assert model.off_topic > 0
    off = calibrate.OutsideEvidence(1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    on = dataclasses.replace(off, off_topic=0.0)
    # weighted equally, P(out | off topic) = 0.9 / (0.9 + 0.05) and P(out | on topic) = 0.1 / 1.05
    assert model.probability(off) == pytest.approx(0.9 / 0.95, abs=0.01)
    assert model.probability(on) == pytest.approx(0.1 / 1.05, abs=0.01)


def test_the_reject_threshold_costs_at_most_its_budget(calibrate: ModuleType) -> None:
    """A model that puts one in-scope question of 100 above 0.9 and the out-of-scope one above
    0.95: with a budget under 1 in 100, ``reject`` stops above 0.9; with 1 in 100, it goes down
    to 0.51, losing that one (at 0.50 the other 99, at P 0.5, would go too)."""
    model = calibrate.OutOfScopeModel(0.0, 0.0, 0.0, 0.0, 0.0, 1.0)  # P = sigmoid(word odds)
    odds = {"in": math.log(0.92 / 0.08), "out": math.log(0.96 / 0.04)}
    data = [
        calibrate.Sample((0.0,) * 9, 1.0, True, "in", "dev-C", (0, 0, 0, 0, 0.0, 0), True)
        for _ in range(99)
    ]
    data.append(
        calibrate.Sample((0.0,) * 9, 1.0, True, "in", "dev-C", (0, 0, 0, 0, odds["in"], 0), True)
    )
    data.append(
        calibrate.Sample((0.0,) * 9, 0.0, False, "out", "dev-C", (0, 0, 0, 0, odds["out"], 0))
    )
    calibration = calibrate.Calibration(10.0, *(0.0,) * 9)  # every question answered
    thresholds = calibrate.Thresholds(answer=0.5, tie=0.0, clarify=0.4)
    chosen = calibrate.choose_reject(data, calibration, thresholds, model, budget=0.005)
    assert chosen.reject == 0.93
    after = calibrate.figures(data, calibration, chosen, model)
    assert (after.rejected, after.right, after.helped) == (1.0, 1.0, 1.0)
    assert calibrate.choose_reject(data, calibration, thresholds, model, budget=0.01).reject == 0.51
    before = calibrate.figures(data, calibration, thresholds)
    assert before.rejected == 0.0  # answered: the model is what says no


def test_the_out_of_scope_model_learns_that_a_narrow_lead_is_outside(
    calibrate: ModuleType,
) -> None:
    """In-scope questions whose best item leads by 0.3 (17 of 20) and out-of-scope ones whose
    best item leads by 0.02 (8 of 10), nothing else apart: the fitted margin weight is negative,
    and a narrow lead gives the higher P(out of scope)."""

    def sample(kind: str, margin: float) -> object:
        outside = (0.0, 0.0, 0.0, 0.0, 0.0, margin)
        return calibrate.Sample((0.0,) * 9, margin, kind == "in", kind, "dev-C", outside, True)

    data = [sample("in", 0.3 if i < 17 else 0.02) for i in range(20)]
    data += [sample("out", 0.02 if i < 8 else 0.3) for i in range(10)]
    model = calibrate.fit_out_of_scope(data)
    assert model.margin < 0
    assert model.off_topic == 0.0  # no evidence on it: the penalty keeps it at 0
    narrow = calibrate.OutsideEvidence(0.0, 0.0, 0.0, 0.0, 0.0, 0.02)
    clear = dataclasses.replace(narrow, margin=0.3)
    # weighted equally: P(out | narrow) = 0.8 / (0.8 + 0.15), P(out | clear) = 0.2 / (0.2 + 0.85)
    assert model.probability(narrow) == pytest.approx(0.8 / 0.95, abs=0.02)
    assert model.probability(clear) == pytest.approx(0.2 / 1.05, abs=0.02)


def test_calibration_yaml_carries_the_margin_weight_and_loads_back(
    calibrate: ModuleType, tmp_path: Path
) -> None:
    """What ``--write`` writes is read back by the knowledge base with every weight, margin too."""
    outside = calibrate.OutOfScopeModel(1.5, 2.0, 6.0, 4.0, -3.5, 2.0, -2.25)
    text = calibrate.calibration_yaml(
        calibrate.Calibration(-5.0, *(1.0,) * 9),
        calibrate.Thresholds(answer=0.76, tie=0.0, clarify=0.51, reject=0.93),
        outside,
        "Fitted in a test.",
    )
    assert "margin: -2.25}" in text.split("\nout_of_scope:")[1].splitlines()[0]
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    (knowledge / "calibration.yaml").write_text(text, encoding="utf-8")
    loaded = kb.load(knowledge)
    assert calibrate.OutOfScopeModel(**loaded.decision["out_of_scope"]) == outside
    assert loaded.decision["thresholds"]["reject"] == 0.93


def _judged_sample(
    calibrate: ModuleType, kind: str, p: float, outside: float, **flags: object
) -> object:
    """A dev question whose P(right) is ``p`` under ``_LOGIT`` and P(out of scope) ``outside``
    under ``_OUTSIDE`` (both read from one feature each), leading its runner-up clearly."""
    features = (math.log(p / (1 - p)),) + (0.0,) * (len(calibrate.FIELDS) - 1)
    odds = (0.0, 0.0, 0.0, 0.0, math.log(outside / (1 - outside)), 0.0)
    known = {"right": False, "helpful": False, **flags}
    return calibrate.Sample(features, 1.0, kind=kind, group="dev-C", outside=odds, **known)


def _models(calibrate: ModuleType) -> tuple[object, object]:
    """P(right) = sigmoid(score), P(out of scope) = sigmoid(word odds)."""
    logit = calibrate.Calibration(0.0, 1.0, *(0.0,) * 8)
    outside = calibrate.OutOfScopeModel(0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    return logit, outside


def test_the_choice_sees_the_out_of_scope_model_say_no(calibrate: ModuleType) -> None:
    """90 in-scope questions answered right at P(right) 0.9; 10 at 0.6 whose best item is wrong
    but whose suggestions hold the right one; 20 out-of-scope questions at 0.6 that the model
    puts at P(out of scope) 0.97. Judged without the model (the old rule), asking back at 0.6
    would ask the 20 back and reject none, so the choice never asks back; judged as the engine
    runs, the model turns them away, and the 10 get a useful "Mente du ...?"."""
    data = [_judged_sample(calibrate, "in", 0.9, 0.1, right=True, helpful=True)] * 90
    data += [_judged_sample(calibrate, "in", 0.6, 0.1, helpful=True)] * 10
    data += [_judged_sample(calibrate, "out", 0.6, 0.97)] * 20
    logit, outside = _models(calibrate)
    old = calibrate.choose(data, logit, None, 0.03)
    assert (old.answer, old.clarify, old.reject) == (0.61, 0.61, 1.0)
    assert calibrate.figures(data, logit, old).helped == 0.9
    new = calibrate.choose(data, logit, outside, 0.03)
    assert new.answer == 0.61 and new.clarify < 0.6
    assert new.reject == new.reject_clarify == 0.3  # no in-scope question is near it
    found = calibrate.figures(data, logit, new, outside)
    assert (found.right, found.wrong, found.asked_back) == (0.9, 0.0, 0.1)
    assert (found.helped, found.rejected) == (1.0, 1.0)


def test_the_choice_sees_the_answerability_rule_and_other_groups(calibrate: ModuleType) -> None:
    """An answer the answerability rule would stop is no answer, a "Mente du ...?" it would stop
    no question back, and a question about another staff group is refused: none is counted as
    answered (wrong) or asked back, and an out-of-scope one so stopped counts as rejected."""
    logit, outside = _models(calibrate)
    sure = calibrate.Thresholds(answer=0.8, tie=0.0, clarify=0.5)
    stopped = [
        _judged_sample(calibrate, "in", 0.9, 0.1, unanswerable=True),
        _judged_sample(calibrate, "in", 0.6, 0.1, helpful=True, unanswerable_suggested=True),
        _judged_sample(calibrate, "in", 0.9, 0.1, refused=True),
        _judged_sample(calibrate, "out", 0.9, 0.1, unanswerable=True),
    ]
    found = calibrate.figures(stopped, logit, sure, outside)
    assert (found.right, found.wrong, found.asked_back, found.helped) == (0.0, 0.0, 0.0, 0.0)
    assert found.rejected == 1.0
    # The same questions without the verdicts: answered wrong, asked back, not rejected.
    plain = [
        dataclasses.replace(s, unanswerable=False, unanswerable_suggested=False, refused=False)
        for s in stopped
    ]
    found = calibrate.figures(plain, logit, sure, outside)
    assert (found.wrong, found.asked_back, found.rejected) == (2 / 3, 1 / 3, 0.0)


def test_asking_back_is_turned_away_on_weaker_outside_evidence(calibrate: ModuleType) -> None:
    """With no budget: ``reject`` stops above the one right answer at P(out of scope) 0.85;
    ``reject_clarify`` goes down to the grid's end, since the useful suggestions are all at
    0.1, and turns away the out-of-scope question asked back at 0.6 that ``reject`` lets by."""
    logit, outside = _models(calibrate)
    data = [_judged_sample(calibrate, "in", 0.9, 0.1, right=True, helpful=True)] * 50
    data.append(_judged_sample(calibrate, "in", 0.9, 0.85, right=True, helpful=True))
    data += [_judged_sample(calibrate, "in", 0.6, 0.1, helpful=True)] * 49
    data.append(_judged_sample(calibrate, "out", 0.6, 0.6))
    thresholds = calibrate.Thresholds(answer=0.8, tie=0.0, clarify=0.5)
    chosen = calibrate.choose_reject(data, logit, thresholds, outside, budget=0.0)
    assert (chosen.reject, chosen.reject_clarify) == (0.86, 0.3)
    assert calibrate.figures(data, logit, chosen, outside).rejected == 1.0
    assert calibrate.figures(data, logit, chosen, outside).helped == 1.0
    alike = dataclasses.replace(chosen, reject_clarify=chosen.reject)
    assert calibrate.figures(data, logit, alike, outside).rejected == 0.0


def test_the_vectorised_figures_match_the_decision_question_by_question(
    calibrate: ModuleType,
) -> None:
    """``figures`` in arrays against ``decide`` and the engine's rule order, one question at a
    time: the same outcome for every threshold tried."""
    from faqbot.matcher import Status, decide

    logit, outside = _models(calibrate)
    data = [
        _judged_sample(calibrate, kind, p, o, right=r, helpful=h, unanswerable=u)
        for kind in ("in", "out")
        for p in (0.3, 0.55, 0.7, 0.95)
        for o in (0.2, 0.7, 0.95)
        for r, h, u in ((True, True, False), (False, True, False), (False, False, True))
    ]
    for answer, clarify, reject, reject_clarify in ((0.6, 0.5, 0.9, 0.6), (0.9, 0.3, 0.8, 0.8)):
        thresholds = calibrate.Thresholds(
            answer, 0.0, clarify, reject=reject, reject_clarify=reject_clarify
        )
        answered, asked = calibrate.decisions(calibrate.judge(data, logit, outside), thresholds)
        for at, sample in enumerate(data):
            p = logit.probability(calibrate.Evidence(*sample.features))
            status = decide("q", [(None, 1.0)], p, thresholds).status  # type: ignore[list-item]
            p_out = outside.probability(calibrate.OutsideEvidence(*sample.outside))
            if thresholds.turns_away(status, p_out) or (
                sample.unanswerable and status is Status.ANSWERED
            ):
                status = Status.NO_MATCH
            assert answered[at] == (status is Status.ANSWERED)
            assert asked[at] == (status is Status.CLARIFY)


def test_calibration_yaml_says_what_it_was_fitted_on(calibrate: ModuleType) -> None:
    def sample(kind: str, group: str) -> object:
        return calibrate.Sample((), 0.0, False, kind, group)

    data = [sample("in", "eval"), sample("out", "eval"), sample("in", "dev-C")]
    data += [sample("out", "dev-AA"), sample("uncovered", "dev-C"), sample("in", "dev-D")]
    assert calibrate.fitted_on(data) == (
        "Fitted on eval.yaml (1 in scope, 1 out of scope) and dev.yaml (2 in scope, 1 out of "
        "scope, 1 uncovered;\n# authors C, D, AA, each judged without its own questions)."
    )
