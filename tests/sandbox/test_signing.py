"""The signing helpers compute exactly what the platforms' documentation says."""

from __future__ import annotations

import hashlib
import hmac

from sandbox.signing import meta_signature, twilio_signature


def test_twilio_signature_matches_the_example_in_twilios_security_docs() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signature = twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert signature == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twilio_signature_sorts_repeated_values_of_one_name() -> None:
    url = "https://relay.example/webhooks/sms/"
    assert twilio_signature("t", url, {"A": ["2", "1"]}) == twilio_signature(
        "t", url, {"A": ["1", "2"]}
    )


def test_meta_signature_is_hex_hmac_sha256_of_the_raw_body_with_prefix() -> None:
    body = b'{"text":"Apakah masih ada? \\u00e9"}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert meta_signature("secret", body) == f"sha256={expected}"
