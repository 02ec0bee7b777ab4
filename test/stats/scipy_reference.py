#!/usr/bin/env python3
"""Reference values for halfwatt's statistics, computed with SciPy/NumPy.

Reads a JSON list of requests on stdin, writes a JSON list of results (same order) on stdout.
Each request is {"op": ..., ...}; see the handlers below. Non-finite floats are written as the
strings "inf"/"-inf"/"nan". Power and sample size follow statsmodels' conventions, computed from
scipy's noncentral distributions (TTestIndPower, FTestAnovaPower) and brentq; statsmodels itself
answers too (power, p-value adjustments) as a second opinion on those conventions.
"""
import json
import math
import sys

import numpy as np
from scipy import optimize, special, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import FTestAnovaPower, TTestIndPower

SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


def num(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def describe(req):
    x = np.asarray(req["x"], dtype=float)
    n = len(x)
    out = {
        "count": n,
        "sum": num(np.sum(x)),
        "mean": num(np.mean(x)),
        "variance": num(np.var(x, ddof=1)),
        "populationVariance": num(np.var(x, ddof=0)),
        "sd": num(np.std(x, ddof=1)),
        "sem": num(stats.sem(x)),
        "skewness": num(stats.skew(x, bias=False)),
        "kurtosis": num(stats.kurtosis(x, bias=False)),
        "populationSkewness": num(stats.skew(x, bias=True)),
        "populationKurtosis": num(stats.kurtosis(x, bias=True)),
        "min": num(np.min(x)),
        "max": num(np.max(x)),
        "ci95": [num(v) for v in stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=stats.sem(x))],
    }
    methods = {
        4: "interpolated_inverted_cdf",
        5: "hazen",
        6: "weibull",
        7: "linear",
        8: "median_unbiased",
        9: "normal_unbiased",
    }
    out["quantiles"] = {
        str(t): [num(quantile(x, p, m)) for p in req["probabilities"]] for t, m in methods.items()
    }
    return out


# Hyndman & Fan (1996) types 4–9 as np.quantile names them, and each type's m in
# Q(p) = (1 − g)·x₍ⱼ₎ + g·x₍ⱼ₊₁₎, j = ⌊np + m⌋, g = np + m − j (x₍₀₎ = x₍₁₎, x₍ₙ₊₁₎ = x₍ₙ₎).
HF_M = {
    "interpolated_inverted_cdf": lambda p: 0.0,
    "hazen": lambda p: 0.5,
    "weibull": lambda p: p,
    "linear": lambda p: 1 - p,
    "median_unbiased": lambda p: (p + 1) / 3,
    "normal_unbiased": lambda p: p / 4 + 3 / 8,
}
# NumPy before 2.0 gets types 4 and 6 wrong below the first order statistic and indexes past
# the end for type 6 at p·(n + 1) ≥ n; there the definition above answers instead.
NUMPY_QUANTILE_OK = int(np.__version__.split(".")[0]) >= 2


def quantile(x, p, method):
    if NUMPY_QUANTILE_OK:
        return np.quantile(x, p, method=method)
    xs = np.sort(x)
    n = len(xs)
    h = n * p + HF_M[method](p)
    j = math.floor(h)
    g = h - j
    at = lambda i: xs[min(max(i, 1), n) - 1]
    return (1 - g) * at(j) + g * at(j + 1)


def _poly(c, x):
    r = 0.0
    for v in reversed(c):
        r = r * x + v
    return r


def shapiro_full_precision(x):
    """Royston (1995) AS R94 in double precision with exact normal quantiles and tail areas, as R's
    swilk.c does (qnorm/pnorm). scipy.stats.shapiro uses the 7-digit approximations AS 111 (PPND)
    and AS 66 (ALNORM) instead, which moves p by up to ~1e-6 relative for n in the thousands."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    half = n // 2
    if n == 3:
        a = np.array([math.sqrt(0.5)])
    else:
        m = -special.ndtri((np.arange(1, half + 1) - 0.375) / (n + 0.25))
        ss = 2 * np.sum(m * m)
        norm = math.sqrt(ss)
        u = 1 / math.sqrt(n)
        an = _poly([0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056], u) + m[0] / norm
        a = np.empty(half)
        if n > 5:
            an1 = _poly([0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633], u) + m[1] / norm
            phi = (ss - 2 * m[0] ** 2 - 2 * m[1] ** 2) / (1 - 2 * an**2 - 2 * an1**2)
            a[0], a[1] = an, an1
            a[2:] = m[2:] / math.sqrt(phi)
        else:
            phi = (ss - 2 * m[0] ** 2) / (1 - 2 * an**2)
            a[0] = an
            a[1:] = m[1:] / math.sqrt(phi)
    coef = np.zeros(n)
    coef[n - 1 - np.arange(half)] = a
    coef[np.arange(half)] = -a
    xs = x / (x[-1] - x[0])
    ca, xd = coef - coef.mean(), xs - xs.mean()
    saa, sxx, sax = np.sum(ca * ca), np.sum(xd * xd), np.sum(ca * xd)
    root = math.sqrt(saa * sxx)
    w1 = (root - sax) * (root + sax) / (saa * sxx)
    w = 1 - w1
    if n == 3:
        return w, max(0.0, 6 / math.pi * (math.asin(math.sqrt(w)) - math.pi / 3))
    y = math.log(w1)
    if n <= 11:
        gamma = _poly([-2.273, 0.459], n)
        if y >= gamma:
            return w, 0.0
        y = -math.log(gamma - y)
        mu, sigma = _poly([0.544, -0.39978, 0.025054, -6.714e-4], n), math.exp(_poly([1.3822, -0.77857, 0.062767, -0.0020322], n))
    else:
        ln = math.log(n)
        mu, sigma = _poly([-1.5861, -0.31082, -0.083751, 0.0038915], ln), math.exp(_poly([-0.4803, -0.082676, 0.0030302], ln))
    return w, special.ndtr(-(y - mu) / sigma)


_swilk_single = None


def swilk_is_single():
    """Whether this SciPy's shapiro works in single precision: then W, for fixed samples, is
    always a float32 value (a double-precision W almost never is)."""
    global _swilk_single
    if _swilk_single is None:
        samples = [np.sin(np.arange(1.0, n + 1) ** 1.5) for n in (20, 57, 301)]
        _swilk_single = all(float(np.float32(w)) == w for w in (stats.shapiro(x).statistic for x in samples))
    return _swilk_single


def shapiro(req):
    r = stats.shapiro(np.asarray(req["x"], dtype=float))
    w, p = shapiro_full_precision(req["x"])
    out = {"wFull": num(w), "pFull": num(p)}
    # SciPy before 1.11 ran swilk in single precision (W to ~1e-7, p far worse at large n): no
    # use at 1e-6, so only the double-precision implementation above answers then (w, p null).
    out.update({"w": None, "p": None} if swilk_is_single() else {"w": num(r.statistic), "p": num(r.pvalue)})
    return out


def levene(req):
    groups = [np.asarray(g, dtype=float) for g in req["groups"]]
    m = stats.levene(*groups, center="mean")
    md = stats.levene(*groups, center="median")
    return {"levene": {"f": num(m.statistic), "p": num(m.pvalue)}, "brownForsythe": {"f": num(md.statistic), "p": num(md.pvalue)}}


def f_ratio(req):
    a = np.asarray(req["a"], dtype=float)
    b = np.asarray(req["b"], dtype=float)
    va, vb = np.var(a, ddof=1), np.var(b, ddof=1)
    f = va / vb
    d1, d2 = len(a) - 1, len(b) - 1
    # Excel F.TEST: two-tailed probability for var(a)/var(b).
    p = 2 * min(stats.f.sf(f, d1, d2), stats.f.cdf(f, d1, d2))
    return {"f": num(max(va, vb) / min(va, vb)), "p": num(min(1.0, p))}


def anova(req):
    groups = [np.asarray(g, dtype=float) for g in req["groups"]]
    alpha = req.get("alpha", 0.05)
    r = stats.f_oneway(*groups)
    try:
        w = stats.f_oneway(*groups, equal_var=False)
    except TypeError:
        w = None  # SciPy < 1.15 has no Welch ANOVA: the formula below answers alone
    k = len(groups)
    n = sum(len(g) for g in groups)
    grand = np.mean(np.concatenate(groups))
    ssb = sum(len(g) * (np.mean(g) - grand) ** 2 for g in groups)
    ssw = sum(np.sum((g - np.mean(g)) ** 2) for g in groups)
    # Welch by formula as well (independent of scipy's implementation).
    nn = np.array([len(g) for g in groups], dtype=float)
    mm = np.array([np.mean(g) for g in groups])
    vv = np.array([np.var(g, ddof=1) for g in groups])
    wt = nn / vv
    mw = np.sum(wt * mm) / np.sum(wt)
    lam = np.sum((1 - wt / np.sum(wt)) ** 2 / (nn - 1))
    fw = (np.sum(wt * (mm - mw) ** 2) / (k - 1)) / (1 + 2 * (k - 2) * lam / (k * k - 1))
    df2 = (k * k - 1) / (3 * lam)
    return {
        "f": num(r.statistic),
        # F from deviations about the means: f_oneway's sums-of-squares formula loses digits to
        # cancellation when F is tiny (its relative error is ~eps·SS_total/SS_between).
        "fStable": num((ssb / (k - 1)) / (ssw / (n - k))),
        "p": num(r.pvalue),
        "ssBetween": num(ssb),
        "ssWithin": num(ssw),
        "fCritical": num(stats.f.isf(alpha, k - 1, n - k)),
        "welch": {
            "f": num(w.statistic) if w else num(fw),
            "p": num(w.pvalue) if w else num(stats.f.sf(fw, k - 1, df2)),
            "df2": num(df2),
            "fFormula": num(fw),
        },
    }


def ttest(req):
    a = np.asarray(req["a"], dtype=float)
    b = np.asarray(req["b"], dtype=float)
    alt = req["alternative"]
    if req["kind"] == "paired":
        r = stats.ttest_rel(a, b, alternative=alt)
    else:
        r = stats.ttest_ind(a, b, equal_var=req["kind"] == "student", alternative=alt)
    alpha = req.get("alpha", 0.05)
    if hasattr(r, "confidence_interval"):
        ci = r.confidence_interval(1 - alpha)
        df, low, high = r.df, ci.low, ci.high
    else:
        # SciPy < 1.11: neither df nor the interval; both from their textbook definitions.
        df, low, high = ttest_interval(a, b, req["kind"], alt, alpha)
    return {"t": num(r.statistic), "p": num(r.pvalue), "df": num(df), "ci": [num(low), num(high)]}


def ttest_interval(a, b, kind, alt, alpha):
    if kind == "paired":
        d = a - b
        diff, se, df = np.mean(d), stats.sem(d), len(d) - 1
    elif kind == "student":
        na, nb = len(a), len(b)
        df = na + nb - 2
        sp2 = ((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / df
        diff, se = np.mean(a) - np.mean(b), math.sqrt(sp2 * (1 / na + 1 / nb))
    else:
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        diff, se = np.mean(a) - np.mean(b), math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    if alt == "two-sided":
        q = stats.t.isf(alpha / 2, df)
        return df, diff - q * se, diff + q * se
    q = stats.t.isf(alpha, df)
    return (df, -math.inf, diff + q * se) if alt == "less" else (df, diff - q * se, math.inf)


def tukey(req):
    groups = [np.asarray(g, dtype=float) for g in req["groups"]]
    r = stats.tukey_hsd(*groups)
    ci = r.confidence_interval(1 - req.get("alpha", 0.05))
    k = len(groups)
    out = []
    for i in range(k):
        for j in range(i + 1, k):
            out.append({
                "meanDifference": num(r.statistic[i, j]),
                "p": num(r.pvalue[i, j]),
                "ci": [num(ci.low[i, j]), num(ci.high[i, j])],
            })
    return out


def studentized_range(req):
    q, k, df = req["q"], req["k"], req["df"]
    return {"sf": num(stats.studentized_range.sf(q, k, df)), "cdf": num(stats.studentized_range.cdf(q, k, df))}


def ttest_power(d, n, alpha, alternative):
    """statsmodels TTestIndPower.power(d, nobs1=n, alpha, ratio=1, alternative)."""
    df = 2 * n - 2
    nc = d * math.sqrt(n / 2)
    a = alpha / 2 if alternative == "two-sided" else alpha
    power = 0.0
    if alternative in ("two-sided", "greater"):
        power += stats.nct.sf(stats.t.isf(a, df), df, nc)
    if alternative in ("two-sided", "less"):
        lower = stats.nct.cdf(stats.t.ppf(a, df), df, nc)
        # scipy's nct.cdf returns nan far in the lower tail (e.g. t=-2.6, df=314, nc=11: ~1e-40);
        # that term is then negligible next to the upper one.
        power += 0.0 if math.isnan(lower) and alternative == "two-sided" else lower
    return power


def anova_power(f, n_total, alpha, k):
    """statsmodels FTestAnovaPower.power(f, nobs=n_total, alpha, k_groups=k)."""
    crit = stats.f.isf(alpha, k - 1, n_total - k)
    return stats.ncf.sf(crit, k - 1, n_total - k, f * f * n_total)


def power(req):
    alpha = req["alpha"]
    if req["test"] == "ttest":
        alt = req.get("alternative", "two-sided")
        at = lambda n: ttest_power(req["effect"], n, alpha, alt)
        scale = 2
    else:
        k = req["groups"]
        at = lambda n: anova_power(req["effect"], n * k, alpha, k)
        scale = k
    out = {"power": num(at(req["n"]))}
    if req["test"] == "ttest":
        sm = TTestIndPower().power(
            effect_size=req["effect"], nobs1=req["n"], alpha=alpha, ratio=1.0, alternative=SM_ALTERNATIVE[alt]
        )
    else:
        sm = FTestAnovaPower().power(effect_size=req["effect"], nobs=req["n"] * k, alpha=alpha, k_groups=k)
    out["statsmodelsPower"] = num(sm)
    target = req["target"]
    hi = 2.0
    while at(hi) < target:
        hi *= 2
    lo = hi / 2 if hi > 2 else 1 + 1e-6
    n_exact = optimize.brentq(lambda n: at(n) - target, lo, hi, xtol=1e-13, rtol=1e-15)
    out["nExact"] = num(n_exact)
    out["nTotalExact"] = num(n_exact * scale)
    return out


def distributions(req):
    return {
        "nctCdf": num(stats.nct.cdf(req["t"], req["df"], req["nc"])),
        "ncfSf": num(stats.ncf.sf(req["f"], req["d1"], req["d2"], req["lambda"])),
        "tSf": num(stats.t.sf(req["t"], req["df"])),
        "fSf": num(stats.f.sf(req["f"], req["d1"], req["d2"])),
    }


def adjust(req):
    p = np.asarray(req["p"], dtype=float)
    m = len(p)
    order = np.argsort(p)
    holm = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        holm[idx] = running
    return {
        "bonferroni": [num(min(1.0, m * v)) for v in p],
        "holm": [num(v) for v in holm],
        # scipy.stats.false_discovery_control is SciPy ≥ 1.11; statsmodels answers below anyway.
        "bh": [num(v) for v in (
            stats.false_discovery_control(p, method="bh")
            if hasattr(stats, "false_discovery_control")
            else multipletests(p, method="fdr_bh")[1]
        )],
        "statsmodels": {
            name: [num(v) for v in multipletests(p, method=method)[1]]
            for name, method in (("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh"))
        },
    }


HANDLERS = {
    "describe": describe,
    "shapiro": shapiro,
    "levene": levene,
    "fRatio": f_ratio,
    "anova": anova,
    "ttest": ttest,
    "tukey": tukey,
    "studentizedRange": studentized_range,
    "power": power,
    "distributions": distributions,
    "adjust": adjust,
}


def main():
    requests = json.load(sys.stdin)
    json.dump([HANDLERS[r["op"]](r) for r in requests], sys.stdout)


if __name__ == "__main__":
    main()
