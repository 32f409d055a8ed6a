"""The matcher: the index over a knowledge base (``index``), a question read once (``query``),
one function per signal (``signals``), and the calibrated decision (``decide``), joined in one
pipeline per question (``engine``): safety -> (small talk) -> score -> decide."""

from faqbot.matcher.decide import (
    CALIBRATION,
    Calibration,
    Evidence,
    OutOfScopeModel,
    OutsideEvidence,
    Result,
    Status,
    Suggestion,
    Thresholds,
    decide,
)
from faqbot.matcher.engine import SAFETY_MAX_CHARS, Matcher, with_small_talk
from faqbot.matcher.query import MAX_QUERY_CHARS
from faqbot.matcher.signals import Weights

__all__ = [
    "CALIBRATION",
    "MAX_QUERY_CHARS",
    "SAFETY_MAX_CHARS",
    "Calibration",
    "Evidence",
    "Matcher",
    "OutOfScopeModel",
    "OutsideEvidence",
    "Result",
    "Status",
    "Suggestion",
    "Thresholds",
    "Weights",
    "decide",
    "with_small_talk",
]
