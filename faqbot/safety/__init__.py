"""Crisis detection: checked before any matching, and never replaced by a FAQ answer.

A message gets one of three levels (``SafetyLevel``):

* ``ACUTE``: danger now or just done, intent, a plan, means at hand, farewell, someone not
  responding, violence under way. The bot sends the safety text alone, the one that fits the
  situation (suicide, self-harm, medical emergency, violence, or the general one).
* ``NOTE``: the message touches on danger but reads as a question about practice, rules,
  training or research, as the past, or names the subject in passing. The bot gives its normal
  reply with a short safety note first ("Hvis det handler om en situation lige nu: ring 112").
  A false alarm then costs nothing, and a borderline message still shows where help is.
* ``NONE``: the normal reply.

How a message is judged (``detector``):

1. It is cut into sentences and every sentence is judged on its own; the message takes the most
   serious level of its sentences. A question or a policy word in one sentence therefore never
   cancels danger in another, and a long work message with one acute sentence is acute. Chat
   often has no full stops, so a sentence is also cut before a word that starts a new thought
   ("..., de holder igen, nå og Birgitte er lige gået ned til søen").
2. The lexicon (``lexicon``, words in ``knowledge/safety.yaml``) finds in each sentence: danger
   phrases, each belonging to a situation ("har taget alle mine piller", "står ude på broen",
   "ingen vil savne mig", "slår løs på"); topic phrases that only name the subject ("selvmord",
   "kniv", "bløder"); calm cues that make a sentence a question about practice, rules, training
   or research ("hvordan taler man", "kursus", "forskning", "hvis en borger") or the past ("for
   ti år siden", "som teenager"); urgency ("lige nu", "i aften", "for lidt siden"); and figures
   of speech ("dør af grin", "den deadline slår mig ihjel") whose words then count as no danger
   (a figure never has a person inside it: "kvæle en beboer i" is no "kvalt i").
   It tolerates inflection, word order within a phrase's reach, compounds, æ/ae, ø/oe, å/aa,
   other letters' accents ("polknela" is "połknęła"), chat shortenings, typos in long words,
   common English, a little Swedish and Norwegian, and the core danger words of Polish,
   Ukrainian, Russian, Arabic (also in Latin letters), Farsi and Urdu in Latin letters, Somali,
   Turkish, German, Spanish and French (staff and residents in Denmark write them; the
   classifier, trained mostly on Danish, cannot read them); emoji that show a danger ("🔪",
   "💊") read as their word, and "💀" as laughing.
3. The classifier (``model``, a logistic regression over words, word pairs and letter n-grams)
   is trained when the knowledge base loads on the labelled messages in
   ``knowledge/safety_examples.yaml`` and gives each sentence a probability of being acute. It
   reads only the text, so it also catches danger told in words the lexicon lacks. Function
   words ("han", "har", "ikke") add no features of their own, only pairs with a content word:
   most crises are statements and most ordinary examples questions, and "han har taget fri i
   morgen" must not read as a crisis for its grammar.
4. ``detector.decide`` combines them, preferring the safety text when in doubt:

   =====================================  =============================================
   in the sentence                        level
   =====================================  =============================================
   a danger phrase                        ACUTE - unless it also has a calm cue: then
                                          NOTE, yet ACUTE if it says "now" or the
                                          classifier gives >= ``ACUTE_WITH_CALM``
   a topic phrase only                    ACUTE from ``ACUTE_FROM_TOPIC`` without a calm
                                          cue, or from ``ACUTE_WITH_CALM`` with one (no
                                          question), else NOTE (from ``NOTE_FROM_TOPIC``)
   nothing the lexicon knows              ACUTE from ``ACUTE_ALONE``, NOTE from
                                          ``NOTE_ALONE``, the probability taken from the
                                          fixed prior ``ALONE_PRIOR`` instead of the learnt
                                          bias - but not ACUTE when the whole message reads
                                          calm to the classifier (context before an
                                          ordinary question)
   =====================================  =============================================

   Without examples (a knowledge base that has none) the lexicon decides alone.
5. The whole message: when no sentence is acute alone, two or more sentences that each touch
   on danger (the note, or nothing the lexicon knows at a probability from ``TOGETHER_FROM``),
   told as statements without a calm cue, make it acute together (``TOGETHER``): a farewell or
   hopelessness spread over a message ("jeg har ryddet op. katten er hos min søster nu").
   ``Judgement.together`` names those sentences. A message that is only a cry for help in any
   language ("Help!", "Ratunku!"; the ``cry`` words) is acute when exclaimed or repeated, and
   gets the note as a bare "hjælp". A short message of statements (no question, calm cue or
   figure of speech) is also counted clause by clause (cut at commas, "og", "så"): a farewell
   told in one run-on chat sentence adds up like one told in several. A message in another
   language that names no danger the lexicon knows is left to the small talk's language check,
   which gives every message not in Danish the note (``faqbot.smalltalk``).

   Reading the cues: a sentence that opens with a question word ("hvem har taget min kop") is a
   question even without a question mark; a calm cue with a negation inside it ("har det ikke
   godt") is none; a cue that supposes a case ("hvad gør jeg hvis") calms only danger told after
   it, not "han står på broen, hvad gør jeg hvis han springer"; and the classifier alone never
   makes a sentence acute that has a calm cue or a figure of speech in it.

The thresholds were chosen by cross-validation across the examples' authors (each author's
messages judged by a classifier trained on the others'; ``bench/safety_thresholds.py``): the
highest pooled recall whose pooled false alarms stay at most 0.03 and that gives no more of the
knowledge base's phrasings, eval.yaml's or dev.yaml's questions the safety text. ``faqbot eval``
prints the cross-validated figures beside the ones on the training examples (no evidence) and on
the held-out set ``knowledge/heldout`` (never learnt from, its messages never printed).

The check reads a whole Telegram message (4,096 characters) and costs well under a millisecond
for a normal message: words and their analyses are remembered, a phrase is only tried when its
rarest word (in the examples and the knowledge base's questions) is present, the sentences that
may hold a danger phrase are judged first (the first acute one ends the search): the first four
as written, then the rest of a long message the one the classifier leans most towards acute
first, the classifier is asked only when a level needs it, its sum is precomputed per word, and
words are cut at white space and commas before any regular expression. A long message with no
acute sentence is the dearest: every sentence is split, looked up and classified
(``bench/README.md`` has the figures).
"""

from faqbot.safety.detector import Judgement, SafetyDetector, SafetyLevel

HELDOUT_SAFETY = "heldout/safety.yaml"
"""The held-out crisis set, relative to the knowledge directory (never learnt from)."""

__all__ = ["HELDOUT_SAFETY", "Judgement", "SafetyDetector", "SafetyLevel"]
