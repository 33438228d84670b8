"""Keywords a person can send on any road, in English and Indonesian, and SMS's carrier words.

A keyword is a message that is only the word (any case, optional #TAG before it, trailing
punctuation allowed): "stop", "#K7Q2 STOP", "Bantuan!". "stop please" is an ordinary message.
"""

from __future__ import annotations

from contacts.contact_guard import Shared

STOP = "stop"
START = "start"
BLOCK = "block"
UNBLOCK = "unblock"
REPORT = "report"
HELP = "help"
# A buyer's data request. Not "DATA": alone it is an everyday answer ("data?" about a phone's
# plan); MYDATA and DATAKU ("my data") are six letters, so they can never be a listing handle.
MY_DATA = "my_data"
# Switch the language the relay writes in. BAHASA ("language") is how an Indonesian asks for
# Indonesian; ENGLISH is the other way. Neither is an everyday one-word answer about a listing.
INDONESIAN = "indonesian"
ENGLISH = "english"

KEYWORDS = {
    "STOP": STOP,
    "BERHENTI": STOP,
    "START": START,
    "MULAI": START,
    "BLOCK": BLOCK,
    "BLOKIR": BLOCK,
    "UNBLOCK": UNBLOCK,
    "BUKA": UNBLOCK,
    "REPORT": REPORT,
    "LAPOR": REPORT,
    "HELP": HELP,
    "BANTUAN": HELP,
    "MYDATA": MY_DATA,
    "DATAKU": MY_DATA,
    "BAHASA": INDONESIAN,
    "ENGLISH": ENGLISH,
}
# The language a keyword is written in: the relay answers a buyer who wrote BANTUAN in
# Indonesian from then on, even on Messenger or Instagram where there is no number's region.
INDONESIAN_WORDS = frozenset({"BERHENTI", "MULAI", "BLOKIR", "BUKA", "LAPOR", "BANTUAN", "DATAKU"})
ENGLISH_WORDS = frozenset({"STOP", "START", "BLOCK", "UNBLOCK", "REPORT", "HELP", "MYDATA"})
CHOSEN_LANGUAGE = {INDONESIAN: "id", ENGLISH: "en"}
# Twilio's reserved words (https://help.twilio.com/articles/223134027): the carrier opts the
# sender out of (or back in to) the whole relay number, whatever the relay does.
SMS_OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
SMS_OPT_IN = frozenset({"START", "YES", "UNSTOP"})

# Shared with the sender's browser (relay/pipeline/guard_rules.py serves it to static/guards.js).
PUNCTUATION = Shared(r"^[\s.!?,;:]+|[\s.!?,;:]+$")
_PUNCTUATION = PUNCTUATION.compile()
TAG_PREFIX = "#"


def _words(text: str) -> list[str]:
    words = _PUNCTUATION.sub("", text).split()
    if len(words) == 2 and words[0].startswith(TAG_PREFIX):
        words = words[1:]
    return words


def keyword_of(text: str) -> str | None:
    """The relay keyword a message consists of, if any."""
    words = _words(text)
    return KEYWORDS.get(words[0].upper()) if len(words) == 1 else None


def language_of_keyword(text: str) -> str | None:
    """ "id" or "en" when a message is a keyword in that language (BANTUAN, HELP), else None."""
    words = _words(text)
    if len(words) != 1:
        return None
    word = words[0].upper()
    if word in INDONESIAN_WORDS:
        return "id"
    return "en" if word in ENGLISH_WORDS else None


def sms_carrier_word(text: str) -> str | None:
    """'out' or 'in' when an SMS is one of Twilio's opt-out or opt-in words. Twilio matches
    the whole body, trimmed, in any case, with no #TAG."""
    word = _PUNCTUATION.sub("", text).upper()
    if word in SMS_OPT_OUT:
        return "out"
    if word in SMS_OPT_IN:
        return "in"
    return None


def shared_definition() -> dict[str, object]:
    """The keyword rule as JSON for the browser: the words, the punctuation around them and the
    #TAG that may stand before one."""
    return {"words": KEYWORDS, "punctuation": PUNCTUATION.as_json(), "tag_prefix": TAG_PREFIX}
