# SPDX-License-Identifier: MIT
"""Binding tickets (include/ticket.h) as the tests need them: re-signed with the
stack's own key, for cases only a forged expiry can reach."""

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge_ticket(stack, ticket, expires):
    """ticket ("v1|kid|purpose|expires|jti|data" "." signature) re-signed with the stack's first
    key, expiring at expires (epoch seconds)."""
    payload = unb64url(ticket.split(".")[0]).decode().split("|")
    payload[3] = str(expires)
    with open(stack.path("keys", "tickets.key")) as f:
        kid, key = next(line.split() for line in f if line.strip() and not line.startswith("#"))
    assert payload[1] == kid
    text = "|".join(payload).encode()
    signature = Ed25519PrivateKey.from_private_bytes(unb64url(key)[:32]).sign(text)
    return b64url(text) + "." + b64url(signature)
