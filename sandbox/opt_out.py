"""Twilio's default opt-out handling (SMS STOP filtering) on long-code numbers.

What the sandbox models, and where Twilio says so:

- Opt-out keywords STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, and since the FCC's 2024
  revocation rule also REVOKE and OPTOUT, opt the sender out of *that* Twilio number only
  (other numbers keep sending unless they share a Messaging Service). Opt-in keywords START,
  YES, UNSTOP opt back in. HELP and INFO get Twilio's help reply. Only a message whose whole
  body is the keyword counts, in any letter case: "STOP PLEASE" is an ordinary message.
  (help.twilio.com/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-;
  twilio.com/docs/messaging/tutorials/advanced-opt-out, which lists REVOKE and OPTOUT.)
- Twilio records the opt-out first "and then pass[es] the message on to your webhook"; the
  STOP/START/HELP messages reach the app like any other (same articles).
- The webhook carries `OptOutType=STOP|START|HELP` only when the number is in a Messaging
  Service with Advanced Opt-Out enabled; a plain number's webhook has no such parameter
  (help.twilio.com/articles/31560110671259-How-to-Track-Opt-Out-Opt-In-and-Help-Messages-Using-
  the-OptOutType-Parameter; help.twilio.com/articles/360034798533-Getting-Started-with-Advanced-
  Opt-Out-for-Messaging-Services). The sandbox's default is the plain number; the setting
  `twilio_advanced_opt_out` turns on the Messaging Service behaviour, where an opt-out covers
  every number of the service.
- While opted out, a send from that number answers HTTP 400 with error 21610 "Attempt to send
  to unsubscribed recipient", and nothing is sent (twilio.com/docs/api/errors/21610).
- Twilio's own replies are free and not in the app's message log. The STOP and START wording
  below is Twilio's default as quoted by Twilio customers (blog.textit.in/tracking-opt-outs,
  missiveapp.com/faq/opt-out-sms); Twilio's article only says HELP "will return a message
  informing the customer that they can use the above commands", so the HELP wording is the
  commonly seen default. A HELP from someone who is opted out gets no reply (Twilio's toll-free
  article 360058144374 says so; the sandbox assumes long codes behave the same).

Not documented by Twilio, so a choice: surrounding whitespace and punctuation are ignored
("Stop.", " stop! ") because people type them and a sandbox that misses an opt-out would hide
a 21610 the relay must handle.
"""

from __future__ import annotations

import enum

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
_SURROUNDING = " \t\r\n.,!?;:'\"()"

STOP_REPLY = (
    "You have successfully been unsubscribed. You will not receive any more messages from "
    "this number. Reply START to resubscribe."
)
START_REPLY = (
    "You have successfully been resubscribed to messages from this number. Reply HELP for "
    "help. Reply STOP to unsubscribe. Msg&Data Rates May Apply."
)
HELP_REPLY = "Reply STOP to unsubscribe. Msg&Data Rates May Apply."


class OptOutType(enum.StrEnum):
    """The values of Twilio's `OptOutType` webhook parameter."""

    STOP = "STOP"
    START = "START"
    HELP = "HELP"


def keyword_type(body: str) -> OptOutType | None:
    """Classify an inbound SMS body as Twilio would; None for an ordinary message."""
    word = body.strip(_SURROUNDING).upper()
    if word in OPT_OUT_KEYWORDS:
        return OptOutType.STOP
    if word in OPT_IN_KEYWORDS:
        return OptOutType.START
    if word in HELP_KEYWORDS:
        return OptOutType.HELP
    return None


def carrier_reply(kind: OptOutType, *, opted_out_before: bool) -> str | None:
    """Twilio's automatic answer to a keyword, or None when Twilio stays silent."""
    if kind is OptOutType.STOP:
        return STOP_REPLY
    if kind is OptOutType.START:
        return START_REPLY
    return None if opted_out_before else HELP_REPLY
