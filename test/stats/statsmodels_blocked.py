#!/usr/bin/env python3
"""Reference for halfwatt's blocked (RCBD) ANOVA: statsmodels' OLS of y ~ C(t) + C(b) and
anova_lm(typ=2), the type II table, plus the type I (sequential) table as a contrast.

Reads a JSON list of requests {"t": [...labels], "b": [...labels], "y": [...values]} on stdin and
writes a JSON list of results in the same order on stdout.
"""
import json
import math
import sys

import pandas as pd
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def rows(table, mean_square):
    out = {}
    for name, key in (("C(t)", "treatment"), ("C(b)", "block"), ("Residual", "residual")):
        r = table.loc[name]
        out[key] = {"ss": num(r["sum_sq"]), "df": num(r["df"]), "f": num(r["F"]), "p": num(r["PR(>F)"])}
        if mean_square:
            out[key]["ms"] = num(r["mean_sq"])
    return out


def blocked(req):
    frame = pd.DataFrame({"t": req["t"], "b": req["b"], "y": req["y"]})
    fit = ols("y ~ C(t) + C(b)", data=frame).fit()
    y = frame["y"]
    return {
        "typeII": rows(anova_lm(fit, typ=2), False),
        "typeI": rows(anova_lm(fit, typ=1), True),
        "totalSs": num(((y - y.mean()) ** 2).sum()),
    }


def main():
    requests = json.load(sys.stdin)
    json.dump([blocked(r) for r in requests], sys.stdout)


if __name__ == "__main__":
    main()
