"""Web ↔ web end-to-end encryption: the public keys of web participants' devices.

A device is one browser of a web participant (a seller's laptop, a buyer's web-chat browser):
it makes an X25519 key pair with the Web Crypto API, keeps the private half non-extractable in
IndexedDB and registers the public half here. The server serves exactly these rows to the other
side (a change is shown to them) and never holds a private key.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from contacts.models import Endpoint


class DeviceKey(models.Model):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="device_keys")
    public_key = models.BinaryField()  # 32 bytes, raw X25519
    # Hex SHA-256 of the public key: how envelopes name a device, and the safety code's input.
    fingerprint = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)  # no longer encrypted to

    class Meta:
        indexes = [
            models.Index(
                fields=["endpoint"], condition=Q(retired_at__isnull=True), name="device_key_live"
            )
        ]

    def __str__(self) -> str:
        return f"Device {self.fingerprint[:12]}"
