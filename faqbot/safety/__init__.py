"""Crisis detection: checked before any matching, and never replaced by a FAQ answer.

(The design is described here once the lexicon and model settle.)
"""

from faqbot.safety.detector import Judgement, SafetyDetector, SafetyLevel

HELDOUT_SAFETY = "heldout/safety.yaml"
"""The held-out crisis set, relative to the knowledge directory (never learnt from)."""

__all__ = ["HELDOUT_SAFETY", "Judgement", "SafetyDetector", "SafetyLevel"]
