#!/usr/bin/env python3
"""Reference for halfwatt's TOST: statsmodels.stats.weightstats.ttost_ind (two one-sided t-tests,
usevar "unequal" = Welch or "pooled" = Student), and the (1 - 2 alpha) interval of the mean
difference from CompareMeans.tconfint_diff.

Reads a JSON list of requests {"a": [...], "b": [...], "low": x, "high": y, "usevar": "unequal" |
"pooled", "alpha": a} on stdin and writes a JSON list of results in the same order on stdout.
"""
import json
import math
import sys

from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def one(req):
    p, (t1, p1, df1), (t2, p2, df2) = ttost_ind(req["a"], req["b"], req["low"], req["high"], usevar=req["usevar"])
    cm = CompareMeans(DescrStatsW(req["a"]), DescrStatsW(req["b"]))
    lo, hi = cm.tconfint_diff(alpha=2 * req["alpha"], usevar=req["usevar"])
    return {
        "p": num(p),
        "t1": num(t1),
        "p1": num(p1),
        "df": num(df1),
        "t2": num(t2),
        "p2": num(p2),
        "ci": [num(lo), num(hi)],
    }


def main():
    json.dump([one(r) for r in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
