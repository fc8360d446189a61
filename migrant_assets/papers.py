"""The papers' published numbers that our results are printed beside (SPEC §6).

These are literature values, never used in a computation of ours; the source is named with each.
"""

#: Group sizes: integration study (001, Section 2.2) and departure study (000, Section 2.1).
GROUP_SIZES: dict[str, dict[str, int]] = {
    "integration": {"local": 1_700_000, "settled_migrant": 1_000_000, "new_migrant": 22_000},
    "departure": {"local": 1_800_000, "staying_migrant": 34_000, "leaving_migrant": 1_500},
}
