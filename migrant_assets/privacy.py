"""Pseudonymisation with a keyed hash (SPEC §1).

A pseudonym is the first 60 bits of HMAC-SHA256(key, "<kind>:<value>") as a positive BIGINT:
``kind`` is ``user`` for an owner id and ``number`` for a phone number. DuckDB computes it in SQL
through the temporary macro ``pseudonym(kind, value)`` that :func:`register_pseudonym_macro`
creates on a connection (the key lives only in that connection, never in the DuckDB file);
:func:`pseudonym` is the reference implementation in Python, used by tests and by nothing that
touches raw data at scale. 60 bits keep collisions negligible (≈1e-5 for 10M numbers).
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

_BLOCK = 64  # SHA-256 block size in bytes
_HEX_DIGITS = 15  # 60 bits


def pseudonym(key: str, kind: str, value: str) -> int:
    """HMAC-SHA256 pseudonym of one identifier, as :func:`register_pseudonym_macro` computes it."""
    digest = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return int(digest[:_HEX_DIGITS], 16)


def register_pseudonym_macro(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Create ``pseudonym(kind, value)`` on ``con``: HMAC-SHA256 written out with sha256()."""
    raw = key.encode()
    if len(raw) > _BLOCK:
        raw = hashlib.sha256(raw).digest()
    block = raw.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in block).hex()
    opad = bytes(b ^ 0x5C for b in block).hex()
    con.execute(
        "CREATE OR REPLACE TEMP MACRO pseudonym(kind, v) AS "
        f"CAST('0x' || substr(sha256(from_hex('{opad}') || unhex(sha256("
        f"from_hex('{ipad}') || encode(kind || ':' || v)))), 1, {_HEX_DIGITS}) AS BIGINT)"
    )
