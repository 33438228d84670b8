"""The number guard hides contact details and leaves prices, dates and codes alone."""

from __future__ import annotations

from typing import Any

import pytest

from contacts.contact_guard import Kind, Masked, mask_contact_details, regions_for
from tests.contacts.contact_guard_corpus import CORPUS, NEGATIVES, POSITIVES, Case

KNOWN_MISSES = 0  # cases in the corpus the guard is known to get wrong (each says why)


def masked(text: str, sender: str | None = "ID") -> str:
    return mask_contact_details(text, regions=regions_for(sender)).text


def test_the_whole_corpus_is_masked_exactly_with_no_false_positives_or_negatives() -> None:
    assert len(POSITIVES) >= 40 and len(NEGATIVES) >= 40
    wrong: list[tuple[Case, str]] = []
    for case in CORPUS:
        got = masked(case.text, case.sender)
        if got != case.masked and not case.known_miss:
            wrong.append((case, got))
    false_negatives = [case for case, _ in wrong if case.positive]
    false_positives = [case for case, _ in wrong if not case.positive]
    known = [case for case in CORPUS if case.known_miss]
    print(
        f"\nnumber guard corpus: {len(POSITIVES)} positives, {len(NEGATIVES)} negatives; "
        f"false positives {len(false_positives)}, false negatives {len(false_negatives)}, "
        f"known misses {len(known)}"
    )
    for case, got in wrong:
        print(f"  {'FN' if case.positive else 'FP'}: {case.text!r} -> {got!r}")
    assert (len(false_positives), len(false_negatives)) == (0, 0)
    assert len(known) == KNOWN_MISSES


def test_each_known_miss_is_still_missed_so_a_fix_updates_the_corpus() -> None:
    for case in (case for case in CORPUS if case.known_miss):
        assert masked(case.text, case.sender) != case.masked, case.known_miss


@pytest.mark.parametrize(
    ("text", "sender", "expected"),
    [
        ("a US buyer's 0813-5555-0099", "US", "a US buyer's [hidden]"),
        ("an Indonesian buyer's 415-555-0188", "ID", "an Indonesian buyer's [hidden]"),
        ("a Malaysian 012-345 6789 from MY", "MY", "a Malaysian [hidden] from MY"),
        ("+62 812 3456 7890 anywhere", None, "[hidden] anywhere"),
        ("0062 812 3456 7890", "US", "[hidden]"),
        ("+1 415 555 0100", "ID", "[hidden]"),
    ],
)
def test_numbers_are_read_for_the_senders_region_the_default_and_us(
    text: str, sender: str | None, expected: str
) -> None:
    assert masked(text, sender) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0812-3456-789O", "[hidden]"),
        ("O8I2-3456-7890", "[hidden]"),
        ("08l2 3456 7890", "[hidden]"),
        ("0812-3456-78|0", "[hidden]"),
    ],
)
def test_letters_that_look_like_digits_are_read_as_digits(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize("word", ["Oil", "lol", "Ilham", "IO", "10lbs"])
def test_words_made_of_look_alike_letters_stay_words(word: str) -> None:
    assert masked(f"{word} 0812") == f"{word} 0812"


@pytest.mark.parametrize(
    "number", ["0812 3456 7890", "0812.3456.7890", "0812-3456-7890", "0812/3456/7890"]
)
def test_digits_may_be_separated_by_spaces_dots_dashes_or_slashes(number: str) -> None:
    assert masked(f"nomor {number} ya") == "nomor [hidden] ya"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(08123456789)", "([hidden])"),
        ("[0812-3456-7890]", "[[hidden]]"),
        ("(0812) 3456 7890", "[hidden]"),
        ("WA (0812) 3456 7890.", "WA [hidden]."),
        ("nomor: 0812-3456-7890!", "nomor: [hidden]!"),
    ],
)
def test_brackets_and_punctuation_around_a_number_stay(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nol delapan satu dua tiga empat lima enam tujuh", "[hidden]"),
        ("kosong delapan satu dua, tiga empat lima", "[hidden]"),
        ("zero eight one two three four five six", "[hidden]"),
        ("oh eight one two 3456 7890 ok", "[hidden] ok"),
        ("call zero eight one two double three four five", "call [hidden]"),
    ],
)
def test_a_run_of_seven_spelled_out_digits_is_hidden_whole(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "satu atau dua hari",
        "one or two",
        "satu dua tiga empat lima enam",  # six digits: a countdown, not a number
        "one owner, two keys, three services, four tyres",
        "Rp 1.500.000, satu dua hari",
    ],
)
def test_number_words_in_sentences_stay(text: str) -> None:
    assert masked(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sari.w@example.co.id", "[hidden]"),
        ("sari [at] gmail [dot] com", "[hidden]"),
        ("sari (at) example (dot) co (dot) id", "[hidden]"),
        ("sari at gmail dot com", "[hidden]"),
        ("sari@gmail ya", "[hidden] ya"),
    ],
)
def test_email_addresses_are_hidden_plain_or_spelled_out(text: str, expected: str) -> None:
    result = mask_contact_details(text, regions=("ID",))
    assert (result.text, result.kinds) == (expected, frozenset({Kind.EMAIL}))


@pytest.mark.parametrize(
    "text", ["see you at the market", "meet at gate dot five", "I am at home", "a @ b"]
)
def test_sentences_with_at_and_dot_are_not_addresses(text: str) -> None:
    assert masked(text) == text


@pytest.mark.parametrize(
    "link",
    [
        "wa.me/6281234567890",
        "https://api.whatsapp.com/send?phone=6281234567890",
        "t.me/sari_bikes",
        "http://m.me/saribikes",
        "ig.me/m/sari.bikes",
        "https://www.instagram.com/sari.bikes/",
        "facebook.com/sari.wulandari",
        "line.me/ti/p/~saribikes",
    ],
)
def test_messaging_app_links_are_hidden_with_or_without_scheme(link: str) -> None:
    result = mask_contact_details(f"chat me at {link}, thanks", regions=("ID",))
    assert (result.text, result.kinds) == ("chat me at [hidden], thanks", {Kind.APP_LINK})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ig: @sari.bikes", "ig: [hidden]"),
        ("Instagram @sari.bikes.", "Instagram [hidden]."),
        ("WA - @sari", "WA - [hidden]"),
        ("Telegram: sari_bikes", "Telegram: [hidden]"),
        ("LINE: @saribikes", "LINE: [hidden]"),
        ("tg: saribikes", "tg: [hidden]"),
    ],
)
def test_handles_after_a_messaging_app_name_are_hidden(text: str, expected: str) -> None:
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text", ["follow my IG for photos", "Line: the blue one", "WA aja kak", "big @sari"]
)
def test_app_names_in_sentences_hide_nothing(text: str) -> None:
    assert masked(text) == text


def test_overlapping_details_become_one_placeholder_and_report_every_kind() -> None:
    result = mask_contact_details(
        "wa.me/6281234567890 or 0812-3456-7890, sari@example.com", regions=("ID",)
    )
    assert result.text == "[hidden] or [hidden], [hidden]"
    assert result.kinds == {Kind.APP_LINK, Kind.PHONE, Kind.EMAIL}
    assert result.changed


def test_text_without_details_comes_back_unchanged() -> None:
    result = mask_contact_details("Masih ada kak? Rp 2.750.000 nego", regions=("ID", "US"))
    assert result == Masked("Masih ada kak? Rp 2.750.000 nego", frozenset())
    assert not result.changed


def test_the_placeholder_can_be_chosen() -> None:
    result = mask_contact_details("WA 0812-3456-7890", regions=("ID",), placeholder="•••")
    assert result.text == "WA •••"


def test_regions_put_the_sender_first_then_the_default_then_us(settings: Any) -> None:
    settings.RELAY_DEFAULT_REGION = "ID"
    assert regions_for("my") == ("MY", "ID", "US")
    assert regions_for("ID") == ("ID", "US")
    assert regions_for(None) == ("ID", "US")
    assert regions_for("") == ("ID", "US")
    assert regions_for("ZZ") == ("ID", "US")  # unknown regions are dropped
    settings.RELAY_DEFAULT_REGION = "US"
    assert regions_for("US") == ("US",)
