"""The papers' numbers printed beside ours (literature values, copied from
``shared/paper_reference.csv``; never used in a computation). Keys are that file's
``(experiment, row)``."""

from __future__ import annotations

#: F1 of the positive class. Departure study: 000, Tables 1–3 (k = 14); integration study: 001,
#: Section 5.1 (settled migrants vs locals) and 5.2 (three-way, new migrants).
PAPER_F1: dict[tuple[str, str], float] = {
    ("table1_new_vs_locals_rf", "all features"): 0.3678,
    ("table1_new_vs_locals_rf", "ego network properties"): 0.3363,
    ("table1_new_vs_locals_rf", "call behavior"): 0.1820,
    ("table1_new_vs_locals_rf", "geographical patterns"): 0.1433,
    ("table1_new_vs_locals_rf", "housing price information"): 0.1144,
    ("table1_new_vs_locals_rf", "random guess"): 0.0198,
    ("table2_leaving_vs_staying_k14", "random forest"): 0.2576,
    ("table2_leaving_vs_staying_k14", "multilayer perceptron"): 0.2140,
    ("table2_leaving_vs_staying_k14", "support vector machine"): 0.2095,
    ("table2_leaving_vs_staying_k14", "logistic regression"): 0.1762,
    ("table2_leaving_vs_staying_k14", "random guess"): 0.0431,
    ("table3_leaving_vs_staying_rf_k14", "all features"): 0.2576,
    ("table3_leaving_vs_staying_rf_k14", "ego network properties"): 0.2234,
    ("table3_leaving_vs_staying_rf_k14", "housing price information"): 0.1809,
    ("table3_leaving_vs_staying_rf_k14", "call behavior"): 0.1683,
    ("table3_leaving_vs_staying_rf_k14", "geographical information"): 0.1498,
    ("settled_vs_locals_lr", "all features"): 0.82,
    ("three_way", "new migrants"): 0.1,
}

#: Share of each group classified as locals by the settled-vs-locals classifier (001, 5.1).
PAPER_SHARE: dict[tuple[str, str], float] = {
    ("classified_as_locals", "settled migrants W2"): 0.152,
    ("classified_as_locals", "new migrants W2"): 0.136,
    ("classified_as_locals", "new migrants W3"): 0.144,
}
