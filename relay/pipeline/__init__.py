"""One road for every message (DESIGN.md, "Every road, every rule").

Every message a person sends — the WhatsApp, Messenger, Instagram and SMS webhooks, the web
chat (start and follow-ups), the seller's web inbox, the REST API, and any road added later —
enters `submit()`, runs the same steps in the same order and ends in one `Outcome`:

    identify            platform roads: drop a retry (provider id seen), ignore an identity we
                        do not have, find or create the sender; web roads name their sender
    guards.BEFORE_ROUTING — what the sender alone decides:
      sender_banned         first: a banned address gets nothing else, not even HELP
      sender_suspended      nothing a suspended participant sends goes anywhere
      link_code             a LINK- code is for the relay, never for the other side
      group_message         WhatsApp groups: one-to-one chats only
      carriable_content     a photo alone, or a text over the limit, cannot be carried
      visible_text          invisible characters go (so they cannot split a number); empty stops
      carrier_keywords      SMS: the carrier's STOP/START act on the whole number, before ours
      template_answer       a reply quoting WhatsApp's "reply to read it" template releases the
                            held text and is not itself relayed
      language_keyword      BAHASA/ENGLISH set the sender's language (answered in it); another
                            keyword in one language (BANTUAN, HELP) makes it theirs unless chosen
      help_keyword          HELP needs no conversation
      data_request_keyword  MYDATA/DATAKU: a one-time code for the "Your data" page, sealed; it
                            needs no conversation and is never relayed
      report_reason_answer  "2" after REPORT files the report; before routing, which would
                            otherwise relay the digit
    routing.RULES        — written_in, web_chat_start, reply_context, tag, referral,
                           remembered_referral, identity_pool, handle, nothing_applies
                           (new-conversation, first-contact and unknown-handle limits are
                           counted where a conversation would open)
    guards.AFTER_ROUTING — what the conversation decides:
      conversation_keywords REPORT, STOP, START, BLOCK, UNBLOCK: before the state, so START can
                            resume and REPORT works in an ended conversation
      other_side_suspended  the conversation is paused while the other side is suspended
      conversation_state    only open conversations carry messages (the handle resumes one the
                            sender ended)
      message_rate          per conversation and side, per minute
      media_rate            photos per sender, per hour, on every road (after message_rate:
                            a refused text costs no photo allowance)
      end_to_end            web ↔ web end to end (Submission.e2ee): only while the conversation
                            is in that mode, and encrypted to exactly the current devices of both
                            sides; such a message has no body the server can read, so the body
                            guards (guards.BODY_GUARDS: link code, content, visible text, the
                            keywords, number guard, app length, spam hold) ran in the sender's
                            browser and are skipped; every other guard holds
      number_guard          after every refusal, so only relayed text is masked; it changes the
                            body, never stops it
      fits_the_other_app    the final body must fit the other side's app (WhatsApp 4,096 chars,
                            Messenger 2,000, Instagram 1,000 bytes, SMS 1,600): never cut
      spam_hold             last: it needs the final body, and a held message is kept sealed
    relay               encrypt, store the message and its delivery, publish after commit

The sender is told what happened in their language: on a platform road by a notice queued to
their app; on a web road the view or API shows `Result.notices` (the same texts).
"""

from relay.pipeline.submit import accept_event, submit
from relay.pipeline.types import Notice, Outcome, Result, Road, Submission

__all__ = ["Notice", "Outcome", "Result", "Road", "Submission", "accept_event", "submit"]
