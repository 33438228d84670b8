"""What the relay itself says to people: one gettext msgid per notice code.

Notices are stored as a code plus safe parameters (a listing title, a tag, a reason in plain
words) and rendered at send time in the recipient's language with `translation.override`, so
the Indonesian lives in locale/id like every other string (tests/test_i18n.py checks it is
complete). The placeholders are str.format fields, filled after translation: a translator
keeps them, and a parameter can never be read as a format directive by gettext.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _now
from django.utils.translation import gettext_lazy as _

NOTICES: dict[str, Promise] = {
    "help": _(
        "Perantara relays messages about marketplace listings without sharing numbers. To "
        "contact a seller, send the listing's handle (like K7Q2-MX9D) with your question. To "
        "answer in a conversation, reply to its message or start with its #TAG. Keywords: "
        "STOP (START to resume), BLOCK (UNBLOCK to undo), REPORT, HELP, MYDATA (download or "
        "erase your data), BAHASA (messages in Indonesian)."
    ),
    "ambiguous": _(
        "You have several conversations here, so we don't know which one this is for. Reply "
        "to one of their messages, or start your message with its #TAG (for example #{tags})."
        " Nothing was forwarded."
    ),
    "unknown_handle": _(
        "We couldn't find a listing with the handle {handle}. Check it on the listing page. "
        "Nothing was forwarded."
    ),
    "handle_paused": _(
        "The listing “{title}” is not taking messages right now (sold or closed). Nothing was"
        " forwarded."
    ),
    "handle_rotated": _(
        "The handle {handle} has been replaced by the seller. Find the new one on the listing"
        " page. Nothing was forwarded."
    ),
    "own_listing": _("That is your own listing. Buyers' messages about it reach you here."),
    "media_unsupported": _(
        "Only photos (JPEG, PNG, WebP) are relayed; your file was not forwarded."
    ),
    "conversation_blocked": _(
        "This conversation about “{title}” has ended; your message was not delivered."
    ),
    "delivery_failed": _("Your message about “{title}” could not be delivered: {reason}."),
    "link_connected": _(
        "This chat is now connected to your Perantara account. Buyers' messages will reach "
        "you here."
    ),
    "verification_code": _("Your Perantara code is {code}. It expires in 10 minutes."),
    "data_request_code": _(
        "Your Perantara data code is {code}. To download or erase what Perantara keeps about "
        "you, open {url} and enter it within 10 minutes. If you did not ask for it, ignore "
        "this message: nothing happens without the code."
    ),
    "data_request_web": _("To download or erase your data, open “Your data”: {url}"),
    "too_long": _(
        "Your message is too long to relay (the limit is {limit} characters). Nothing was "
        "forwarded."
    ),
    "report_menu": _(
        "What is wrong? Reply with a number: 1 spam, 2 scam, 3 harassment, 4 prohibited item,"
        " 5 other. You can add a few words after the number."
    ),
    "report_filed": _(
        "Thank you. Your report about “{title}” is with our moderators; the other side is not"
        " told who reported."
    ),
    "moderation_warning": _(
        "A moderator reviewed a report about your messages on Perantara. Please follow the "
        "rules: no spam, scams or harassment. Repeated reports lead to suspension."
    ),
    "suspended_until": _(
        "Your use of Perantara is suspended until {until}. Your messages will not be "
        "delivered until then."
    ),
    "conversation_paused": _(
        "This conversation about “{title}” is paused while a moderator reviews it; your "
        "message was not delivered."
    ),
    "banned": _("This number or account can no longer use Perantara."),
    "slow_down": _(
        "You are sending too fast. Please wait a little and try again; this message was not "
        "forwarded."
    ),
    "media_slow_down": _(
        "You have sent many photos in the last hour (the limit is {limit}). Please wait a "
        "while before sending more; this message was not forwarded."
    ),
    "held_as_spam": _(
        "The same message was sent to many listings, so it was held for review and not forwarded."
    ),
    "contact_masked": _(
        "To keep both sides safe, we hid {kinds} in your message: the other side sees "
        "{placeholder} in its place. Keep talking here; your number stays private."
    ),
    "referral_noted": _(
        "You're writing about “{title}”. Send your question: it goes to the seller, and your "
        "number stays hidden."
    ),
    "too_long_for_app": _(
        "Your message is too long for the other side's app ({app} takes about {limit} "
        "characters here). Nothing was forwarded: please send it in shorter parts."
    ),
    "group_unsupported": _(
        "Perantara relays one-to-one chats only. Write to this number directly, not in a "
        "group; nothing was forwarded."
    ),
    "content_unsupported": _(
        "Only text is relayed for now: your location, contact card or other content was not "
        "forwarded. Write it as text if you want to share it."
    ),
    "empty_message": _("Your message had no visible text, so nothing was forwarded."),
    "listing_busy": _(
        "The listing “{title}” is getting many new messages right now. Please try again in an"
        " hour; nothing was forwarded."
    ),
    "first_delivered": _(
        "Sent to the seller of “{title}”. Replies arrive here; your number stays hidden. Send"
        " STOP to end."
    ),
    "stopped": _(
        "Done: you won't get more messages about “{title}”. To talk again, send START or the "
        "listing's handle {handle}."
    ),
    "resumed": _("You're back in the conversation about “{title}”. Send STOP to end it again."),
    "opted_in": _(
        "Welcome back: messages from this number reach you again. Send STOP at any time to "
        "stop them."
    ),
    "blocked_by_buyer": _(
        "Blocked: the seller of “{title}” can no longer write to you here. Send UNBLOCK to undo it."
    ),
    "blocked_by_seller": _(
        "Blocked: this buyer can no longer write to you about “{title}”. Send UNBLOCK, or "
        "unblock them in your inbox, to undo it."
    ),
    "unblocked": _("Unblocked: you can write to each other about “{title}” again."),
    "you_ended": _(
        "You ended the conversation about “{title}”, so nothing was forwarded. Send START to "
        "resume it."
    ),
    "you_blocked": _(
        "You blocked the conversation about “{title}”, so nothing was forwarded. Send UNBLOCK"
        " to undo it."
    ),
    "closed_buyer": _(
        "The conversation about “{title}” was closed after a quiet period, so nothing was "
        "forwarded. Send the listing's handle {handle} to start a new one."
    ),
    "closed_seller": _(
        "The conversation about “{title}” was closed after a quiet period, so nothing was "
        "forwarded. The buyer can start a new one with the listing's handle."
    ),
    "buyer_left": _(
        "The buyer ended the conversation about “{title}”. Your messages will not reach them "
        "unless they come back."
    ),
    "seller_left": _(
        "The seller ended the conversation about “{title}”. Your messages will not reach them"
        " unless they come back."
    ),
    "buyer_back": _("The buyer is back in the conversation about “{title}”: you can write again."),
    "seller_back": _(
        "The seller is back in the conversation about “{title}”: you can write again."
    ),
    "relay_blocked": _(
        "A moderator closed the conversation about “{title}”. Messages in it will not be delivered."
    ),
    # The answer to BAHASA / ENGLISH, rendered in the language just chosen.
    "language_set": _(
        "From now on Perantara writes to you in English. Send BAHASA for Indonesian."
    ),
    # Web ↔ web end to end (relay/pipeline/guards.py, end_to_end): the sender keeps the text.
    "e2ee_unavailable": _(
        "This conversation is no longer end-to-end encrypted, so your encrypted message was not"
        " sent. Your text is still in the box: send it again to send it through the relay."
    ),
    "e2ee_keys_changed": _(
        "The devices of this conversation changed while you wrote, so your message was not "
        "sent. Send it again to encrypt it to the current devices."
    ),
}

# What the number guard hid, as the contact_masked notice names it.
KIND_NAMES: dict[str, Promise] = {
    "phone": _("a phone number"),
    "email": _("an e-mail address"),
    "app_link": _("a messaging-app link or handle"),
}


def _kinds(kinds: str) -> str:
    names = [str(KIND_NAMES[kind]) for kind in kinds.split(",")]
    if len(names) == 1:
        return names[0]
    return _now("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])


# Photos (issue #16): what the sender hears when a file or a photo does not go, and whether
# the text beside it did.
NOTICES.update(
    {
        "media_unsupported_text_sent": _(
            "Only photos (JPEG, PNG, WebP) are relayed; your file was not forwarded, but your "
            "text was."
        ),
        "photo_not_forwarded": _(
            "Your photo was not forwarded: {problem} Only photos (JPEG, PNG, WebP) up to 16 MB "
            "are relayed."
        ),
        "photo_not_forwarded_text_sent": _(
            "Your photo was not forwarded: {problem} Your text was forwarded. Only photos "
            "(JPEG, PNG, WebP) up to 16 MB are relayed."
        ),
    }
)

# Why a photo did not go, as photo_not_forwarded names it: marketplace.images.ImageRefused
# reasons and the download's own.
PROBLEMS: dict[str, Promise] = {
    "too_large": _("it is larger than 16 MB."),
    "not_an_image": _("the file is not a photo."),
    "unsupported_type": _("it is not a JPEG, PNG or WebP photo."),
    "too_many_pixels": _("it has too many pixels to be a real photo."),
    "damaged": _("the photo is damaged or incomplete."),
    "empty": _("the file is empty."),
    "too_slow": _("it took too long to download."),
    "unavailable": _("your app no longer offers it (the link expired)."),
    "refused_address": _("it came from an address the relay does not call."),
}


def render_notice(code: str, language: str, params: dict[str, str]) -> str:
    """The notice `code` in `language` ("en", "id"; anything else falls back to English)."""
    with translation.override(language[:2] or "en"):
        if params.get("kinds"):
            params = {**params, "kinds": _kinds(params["kinds"])}
        if params.get("problem"):
            params = {**params, "problem": str(PROBLEMS[params["problem"]])}
        return str(NOTICES[code]).format(**params)
