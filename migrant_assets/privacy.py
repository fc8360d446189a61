"""Pseudonymisation with a keyed hash (SPEC §1).

A pseudonym is the first 60 bits of HMAC-SHA256(key, "<kind>:<value>") as a positive BIGINT:
``kind`` is ``user`` for an owner id and ``number`` for a phone number. DuckDB computes it in SQL
through the temporary macro ``pseudonym(kind, value)`` that :func:`register_pseudonym_macro`
creates on a connection (the key lives only in that connection, never in the DuckDB file);
:func:`pseudonym` is the reference implementation in Python, used by tests and by nothing that
touches raw data at scale. 60 bits keep collisions negligible (≈1e-5 for 10M numbers).
:func:`find_raw_identifiers` searches every table of the DuckDB file for the identifiers of a
source while it is ingested (the `no_raw_identifiers` checks judge the stored result).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

import duckdb

from migrant_assets.db import has_table, quote, quote_identifier

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


#: Integer columns are searched for identifiers of at least this value (10 digits: a phone
#: number with its area code in most numbering plans). Integer columns hold pseudonyms, counts,
#: row numbers and ages, which a shorter identifier (a sequential owner id such as 100005) can
#: equal by chance; a leak through a bug would store the long numbers too.
MIN_INTEGER_IDENTIFIER = 10**9

#: Text that a table holds by design and that no person is identified by: what the reference
#: files hold (the tables of cells and estates, and their quarantined rows) and the input
#: files' labels (every column ``file``; a file named by a number has a label that is not one).
#: An identifier of fewer than 10 characters equal to one of their tokens (an owner id 100008
#: and an LTE cell 460-11-10001-100008; an owner id 20160905 and a file cdr_20160905.csv) is
#: explained by them, not a leak, and is not searched for; a phone number always is. Nor is one
#: equal to a word the caller knows (``known_words``: a province's 6-digit code, 340000, which a
#: CRM's sequence of owner ids reaches).
_EXPLAINED_TABLES = ("cells", "estates", "quarantine_cells", "quarantine_estates")


#: The tokens of a text: its runs of letters and digits, lower-cased, and, outside what reads
#: as a date or a time of day (``2016-09-01``, ``08:00:00``: the macro ``without_dates`` of
#: ``sql/ingest/canonical.sql``, which the ingestion's connection holds), each run of 7 or more
#: digits joined by separators (``+86 177 1567 9550``, ``(173) 5626-7031``, ``14,900,326,293``)
#: as its digits, also without its first 1 to 4 digits when 8 or more are left (a country code,
#: ``00``, a trunk ``0``), as a number written so would be stored. Runs of 16 or more hex
#: characters (a digest: ``…eac7b0001181b1d…``, which the lineage tables and the model files'
#: hashes hold) are left out of that search, whose digits are no number written with
#: separators (a run of 16 digits or more is still a token); a number glued to letters
#: (``tel13912345678``) is not.
_TEXT_TOKENS = (
    "list_concat(list_transform(regexp_extract_all(v, '[A-Za-z0-9+]+'), lambda t: lower(t)), "
    "flatten(list_transform(regexp_extract_all(regexp_replace(without_dates(v), "
    "'[0-9A-Fa-f]{16,}', ' ', 'g'), '[0-9]([^0-9A-Za-z:]{0,3}[0-9]){6,}'), "
    "lambda r: list_transform([regexp_replace(r, '[^0-9]', '', 'g')], "
    "lambda d: list_filter([d, d[2:], d[3:], d[4:], d[5:]], "
    "lambda x: x = d OR length(x) >= 8))[1])))"
)
#: ... and, when an identifier holds punctuation (``ID-PERSON-4711``, ``u_48213``, an e-mail, a
#: UUID), the runs of letters and digits joined by ``-``, ``_``, ``.`` or ``@``.
_PUNCTUATED_TOKENS = ("list_transform(regexp_extract_all(v, "
                      "'[A-Za-z0-9+]+([-_.@][A-Za-z0-9+]+)+'), lambda t: lower(t))")


#: Owner ids are searched by their pseudonyms (:func:`find_owner_ids`) from this length: a
#: shorter token of a stored text (a part of a cell id, a date, a count) can hash to a short
#: owner id by being equal to it; the raw search explains those (:func:`find_raw_identifiers`).
MIN_OWNER_TOKEN = 10


def find_owner_ids(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, int]:
    """Where a subscriber's owner id (not in hand when the calls are landed: known by its
    pseudonym, ``subscribers.user_id``, through the connection's ``pseudonym`` macro) occurs in
    the text columns of ``tables``: ``{"table.column": rows}``. Each distinct text is split into
    its runs of letters and digits, also joined by ``-``, ``_``, ``.`` or ``@`` (``OWNER-4711``,
    an e-mail), as written (case kept), of :data:`MIN_OWNER_TOKEN` characters or more (SPEC
    §1). Empty without a subscribers table."""
    if not tables or not has_table(con, "subscribers"):
        return {}
    columns = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND data_type = 'VARCHAR' "
        "AND list_contains(?, table_name) ORDER BY 1, 2", [list(tables)]).fetchall()
    if not columns:
        return {}
    texts = " UNION ALL ".join(  # the pipeline's own tables and columns, allow-listed
        f"SELECT {i} AS i, {quote(c)} AS v, count(*) AS n "
        f"FROM {quote(t)} GROUP BY 2" for i, (t, c) in enumerate(columns))
    found = con.execute(
        "SELECT i, sum(n) FROM (SELECT DISTINCT i, v, n FROM (SELECT i, v, n, unnest(list_concat("
        "regexp_extract_all(v, '[A-Za-z0-9+]+'), "
        "regexp_extract_all(v, '[A-Za-z0-9+]+([-_.@][A-Za-z0-9+]+)+'))) AS token "
        f"FROM ({texts}) WHERE v IS NOT NULL) WHERE length(token) >= $min_length "
        "AND pseudonym('user', token) IN (SELECT user_id FROM subscribers)) GROUP BY i",
        {"min_length": MIN_OWNER_TOKEN}).fetchall()
    return {f"{columns[i][0]}.{columns[i][1]}": int(n) for i, n in sorted(found) if n}


def find_raw_identifiers(con: duckdb.DuckDBPyConnection,
                         known_words: Sequence[str] = ()) -> dict[str, int]:
    """Where the identifiers of temp table ``raw_identifiers`` (the source's, in hand while
    ``migrant_assets.ingest`` ingests it) occur in the tables of the DuckDB file (views only
    repeat them): ``{"table.column": rows}`` (SPEC §1).

    Integer columns are matched against the identifiers that read as integers of at least
    :data:`MIN_INTEGER_IDENTIFIER`; text columns are split into tokens (:data:`_TEXT_TOKENS`:
    a number inside a JSON record or written with separators is found too; with
    :data:`_PUNCTUATED_TOKENS` when an identifier holds punctuation), each distinct text once,
    without regard to case. Identifiers of fewer than 10 characters equal to a token of
    :data:`_EXPLAINED_TABLES`, of a file label or of ``known_words`` are not searched for, nor
    words that name a column (a header line repeated inside a file gives the identifier
    ``caller``).
    """
    columns = con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns AS c "
        "JOIN information_schema.tables AS t USING (table_catalog, table_schema, table_name) "
        "WHERE c.table_schema = 'main' AND c.table_catalog = current_database() "
        "AND t.table_type = 'BASE TABLE' "
        "AND (c.data_type = 'VARCHAR' OR c.data_type IN ('BIGINT', 'INTEGER', 'HUGEINT', "
        "'UBIGINT')) ORDER BY 1, 2"
    ).fetchall()
    explained = [f"SELECT lower(unnest(list_concat(regexp_extract_all(v, '[A-Za-z0-9+]+'), "
                 "regexp_extract_all(v, '[A-Za-z0-9+]+([-_.@][A-Za-z0-9+]+)+')))) FROM (SELECT "
                 f"DISTINCT {quote_identifier(c)} AS v FROM {quote_identifier(t)})"
                 for t, c, dtype in columns
                 if dtype == "VARCHAR" and (t in _EXPLAINED_TABLES or c == "file")]
    # each identifier as written (lower-cased) and, with 7 or more digits, as its digits
    con.execute(
        "CREATE OR REPLACE TEMP TABLE searched_identifiers AS SELECT DISTINCT token, as_int "
        "FROM (SELECT lower(token) AS token, as_int FROM raw_identifiers UNION ALL "
        "SELECT regexp_replace(token, '[^0-9]', '', 'g'), as_int FROM raw_identifiers "
        "WHERE length(regexp_replace(token, '[^0-9]', '', 'g')) >= 7) "
        "WHERE NOT (NOT regexp_matches(token, '[0-9]') AND token IN "
        "(SELECT lower(column_name) FROM information_schema.columns))"
        + (f" AND (length(token) >= 10 OR token NOT IN ({' UNION '.join(explained)}))"
           if explained else "")
        + " AND (length(token) >= 10 OR token NOT IN (SELECT lower(unnest($known))))",
        {"known": list(known_words)})
    tokens = _TEXT_TOKENS
    if con.execute("SELECT count(*) FROM searched_identifiers "
                   "WHERE regexp_matches(token, '[-_.@]')").fetchone()[0]:
        tokens = f"list_concat({_TEXT_TOKENS}, {_PUNCTUATED_TOKENS})"
    tables = sorted({t for t, _, _ in columns})
    filled = {tables[i] for i, f in con.execute(" UNION ALL ".join(
        f"SELECT {i} AS i, EXISTS (FROM {quote_identifier(t)}) AS f"
        for i, t in enumerate(tables))).fetchall() if f} if tables else set()
    texts, counts = [], []
    for place, (table, column, dtype) in enumerate(columns):
        if table not in filled:
            continue
        if dtype == "VARCHAR":  # each distinct text of a column with its rows, split below
            texts.append(f"SELECT {place} AS i, {quote_identifier(column)} AS v, count(*) AS n "
                         f"FROM {quote_identifier(table)} GROUP BY 2")
        else:
            counts.append(
                f"SELECT {place} AS i, (SELECT count(*) FROM (SELECT "
                f"{quote_identifier(column)} AS v FROM {quote_identifier(table)}) "
                f"WHERE v IN (SELECT as_int FROM searched_identifiers "
                f"WHERE as_int >= {MIN_INTEGER_IDENTIFIER})) AS n")
    if texts:  # every text column's distinct texts split in one expression
        counts.append(
            "SELECT i, sum(n) AS n FROM (SELECT DISTINCT i, v, n FROM (SELECT i, v, n, "
            f"unnest({tokens}) AS token FROM ({' UNION ALL '.join(texts)})) "
            "WHERE token IN (SELECT token FROM searched_identifiers)) GROUP BY i")
    # one statement for the columns of every table with rows (a statement each cost 3 ms), the
    # tokens bound once for all text columns (1.5 ms each time: once a column was 20% of a
    # small ingestion)
    found = con.execute(" UNION ALL ".join(counts)).fetchall() if counts else []
    con.execute("DROP TABLE searched_identifiers")
    return {f"{columns[i][0]}.{columns[i][1]}": n for i, n in sorted(found) if n}
