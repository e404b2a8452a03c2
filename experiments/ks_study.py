# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""KS study of the relaxed MVHG sampler (paper section 5.1 / appendix C.1), with exact references.

For each configuration (3 classes; the paper's m = [200, 200, 200], n = 180, omega = [1, w2, 1] for
w2 = 1..10, plus the appendix sweeps over n and over m_2 with omega = [1, 5, 1]) and each sampling
method of `tfp_mvhg.RelaxedMultivariateHypergeometric` with `hard=True`:

  exact            method="exact" (true conditionals from the generating-function tables)
  merged           method="merged", classes in the given order (the paper's approximation)
  merged_shuffled  method="merged", shuffle_classes=True (a new random class order per call, as in
                   the paper's code); samples are drawn in many calls of `call_size`

it draws `num_samples` hard samples (temperature 1.0: hard samples are Gumbel-max draws and do not
depend on the temperature; the script checks this) and, per class, runs a two-sample KS test
(`scipy.stats.ks_2samp`) against the same number of draws from an independent numpy sampler
(`rng.choice` over the enumerated support, `tests/mvhg_reference.py`):

  reference "exact"   the true MVHG pmf, by enumeration of the support;
  reference "merged"  the pmf of the paper's merged scheme (`merged_scheme_pmf`): in the given
                      class order for `exact` and `merged`; for `merged_shuffled` the mixture over
                      the 6 class orders, with each order drawn as often as the sampler used it
                      (the order of every call is identified exactly from the chain log-pmf that
                      `sample_with_details` returns; orders with identical pmfs, e.g. for c = 3
                      those with the same first class, are grouped; the TV uses the uniform
                      mixture).

p-values are Benjamini-Hochberg corrected (alpha = 0.05) within each family (sweep, method,
reference): all configurations of one sweep times the 3 classes. KS on integer data is
conservative (ties), so rejections are if anything under-counted.

It also computes exact total-variation distances to the true MVHG by enumeration (exact: the
library's `log_prob` on the whole support against numpy, which checks the tables; merged: the numpy
pmf of the scheme; merged_shuffled: the uniform mixture over orders), verifies the library's tables
(`MultivariateHypergeometric.log_prob`, relaxed `log_prob` for both methods, and the sampler's own
per-class conditional logits, against numpy), and reports E[X] (exact for each method's pmf, and
the sample mean).

Outputs in experiments/results/ (or --out): ks_study.json (all numbers, settings, seeds, machine;
also the per-configuration cache), ks_study.md (tables), PNG figures (Fig. 1-style histograms for
omega_2 = 1, 5, 10; TV against omega_2, n and m_2).

Seeds are fixed (derived from each configuration); every configuration records the tfp_mvhg code
it ran (git HEAD, modified files, hash of the sources).

Command (from the repository root, ~9 minutes on 2 cores; options --out DIR, --samples N,
--call-size N):
    .venv/bin/python experiments/ks_study.py            # resumes from the JSON cache
    .venv/bin/python experiments/ks_study.py --fresh    # recompute everything
    .venv/bin/python experiments/ks_study.py --quick    # smoke test: 5 configs, 5000 samples,
                                                        # writes to experiments/results/quick/
"""

import argparse
import datetime
import hashlib
import itertools
import json
import os
import platform
import subprocess
import sys
import time
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import scipy  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_probability as tfp  # noqa: E402
from scipy import special  # noqa: E402
from scipy import stats  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import mvhg_reference as ref  # noqa: E402  (numpy/scipy only, independent of tfp_mvhg)
import tfp_mvhg  # noqa: E402

VERSION = 2                 # bump to invalidate cached configurations
GLOBAL_SEED = 20230501
ALPHA = 0.05
TEMPERATURE = 1.0
CHUNK = 10000               # samples per call for the fixed-order methods (memory only)
METHODS = ("exact", "merged", "merged_shuffled")
REFERENCES = ("exact", "merged")
CHECK_SAMPLES = 2000        # draws used to check the sampler's conditional logits


def code_version():
    """The tfp_mvhg code this process imported: git HEAD, modified files, hash of the sources."""
    package = os.path.dirname(os.path.abspath(tfp_mvhg.__file__))
    digest = hashlib.sha256()
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=package, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain", "--", ".")
    return dict(git_head=git("rev-parse", "--short", "HEAD"),
                tfp_mvhg_modified=status.splitlines() if status else [],
                tfp_mvhg_sha256=digest.hexdigest()[:16])


CODE_VERSION = code_version()   # read at import, i.e. the code this process runs


# --------------------------------------------------------------------------------------------
# Configurations


def make_sweeps(quick):
    """{sweep: (parameter name, description, [(value, config)])}; a config is dict(m, n, w)."""
    def cfg(m, n, w):
        return dict(m=[int(v) for v in m], n=int(n), w=[float(v) for v in w])

    if quick:
        omegas, ns, m2s = [1, 5, 10], [60], [100]
    else:
        omegas = list(range(1, 11))
        ns = [20, 60, 100, 140, 180, 260, 340, 420, 500, 580]
        m2s = [50, 100, 200, 300, 400]
    return {
        "omega2": ("omega_2", "m = [200, 200, 200], n = 180, omega = [1, omega_2, 1]",
                   [(w2, cfg([200, 200, 200], 180, [1, w2, 1])) for w2 in omegas]),
        "n": ("n", "m = [200, 200, 200], omega = [1, 5, 1]",
              [(n, cfg([200, 200, 200], n, [1, 5, 1])) for n in ns]),
        "m2": ("m_2", "m = [200, m_2, 200], n = 180, omega = [1, 5, 1]",
               [(m2, cfg([200, m2, 200], 180, [1, 5, 1])) for m2 in m2s]),
    }


def config_name(cfg):
    return f"m={cfg['m']} n={cfg['n']} w={[int(v) if v == int(v) else v for v in cfg['w']]}"


def config_key(cfg, settings):
    return json.dumps(dict(cfg=cfg, num_samples=settings["num_samples"],
                           call_size=settings["call_size"], version=VERSION), sort_keys=True)


def config_seed(cfg):
    text = json.dumps(cfg, sort_keys=True).encode()
    return int((GLOBAL_SEED * 1000003 + zlib.crc32(text)) % (2 ** 31 - 1))


# --------------------------------------------------------------------------------------------
# Numpy side: enumeration, merged-scheme pmfs, reference draws


class Support:
    """The enumerated support with a dense index over the first c - 1 coordinates."""

    def __init__(self, m, n):
        self.m = np.asarray(m, np.int64)
        self.n = n
        self.x = ref.support(self.m, n)
        self.dims = tuple(int(v) + 1 for v in self.m[:-1])
        self.table = np.full(int(np.prod(self.dims)), -1, np.int64)
        self.table[self.flat(self.x)] = np.arange(len(self.x))

    def flat(self, x):
        return np.ravel_multi_index(tuple(np.asarray(x, np.int64)[:, :-1].T), self.dims)

    def rows(self, x):
        """Support row of each sample `[N, c]` (must lie in the support)."""
        x = np.rint(np.asarray(x)).astype(np.int64)
        if np.any(x.sum(1) != self.n) or np.any(x < 0) or np.any(x > self.m):
            raise ValueError("samples outside the support")
        index = self.table[self.flat(x)]
        assert np.all(index >= 0)
        return index


def order_log_pmfs(support, w):
    """log pmf of the merged scheme for every class order, on the canonical support: [6, S]."""
    c = len(support.m)
    orders = list(itertools.permutations(range(c)))
    out = np.empty((len(orders), len(support.x)))
    for k, order in enumerate(orders):
        order = list(order)
        x_perm, log_p = ref.merged_scheme_pmf(support.m[order], support.n, np.asarray(w)[order])
        x = np.empty_like(x_perm)
        x[:, order] = x_perm
        out[k, support.rows(x)] = log_p
    return orders, out


def distinct_components(order_logs, tol=1e-9):
    """Groups the class orders whose merged-scheme pmfs coincide: a list of lists of indices.

    With 3 classes only the first class is merged-approximated (the last two are split exactly),
    so the 6 orders give at most 3 distinct pmfs (1 when all weights are equal).
    """
    groups = []
    for k in range(len(order_logs)):
        for group in groups:
            if np.max(np.abs(np.exp(order_logs[group[0]]) - np.exp(order_logs[k]))) < tol:
                group.append(k)
                break
        else:
            groups.append([k])
    return groups


def total_variation(log_p, log_q):
    return float(0.5 * np.sum(np.abs(np.exp(log_p) - np.exp(log_q))))


def draw(rng, support, log_pmf, size):
    p = np.exp(log_pmf - special.logsumexp(log_pmf))
    return support.x[rng.choice(len(p), size=size, p=p / p.sum())]


def benjamini_hochberg(p_values):
    """BH-adjusted p-values (q-values), same shape as the input."""
    p = np.asarray(p_values, np.float64).ravel()
    order = np.argsort(p)
    scaled = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    out = np.empty_like(p)
    out[order] = adjusted
    return out.reshape(np.shape(p_values))


def trimmed_histogram(values, size):
    counts = np.bincount(np.rint(values).astype(np.int64), minlength=size)
    nonzero = np.flatnonzero(counts)
    lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if len(nonzero) else (0, 0)
    return dict(offset=lo, counts=counts[lo:hi].tolist())


def trimmed_pmf(x_i, p, size, floor=1e-9):
    pmf = np.bincount(x_i, weights=p, minlength=size)
    keep = np.flatnonzero(pmf > floor)
    lo, hi = int(keep[0]), int(keep[-1]) + 1
    return dict(offset=lo, pmf=[float(f"{v:.6g}") for v in pmf[lo:hi]])


# --------------------------------------------------------------------------------------------
# TF side: the library under test


def relaxed(cfg, method, shuffle=False, m=None, w=None, temperature=TEMPERATURE):
    m = cfg["m"] if m is None else m
    w = cfg["w"] if w is None else w
    return tfp_mvhg.RelaxedMultivariateHypergeometric(
        np.asarray(m, np.float64), float(cfg["n"]), temperature,
        weights=np.asarray(w, np.float64), hard=True, method=method, shuffle_classes=shuffle)


def chain_log_prob(details):
    """Sum over classes of the sampler's conditional logit at the drawn count: `[S]`."""
    counts = np.rint(details.counts.numpy()).astype(np.int64)          # [S, c]
    logits = details.logits.numpy()                                    # [S, c, W]
    picked = np.take_along_axis(logits, counts[..., None], axis=-1)[..., 0]
    return picked.sum(-1), counts


def sample_fixed(cfg, method, num_samples, seed):
    dist = relaxed(cfg, method)
    parts = []
    for k, start in enumerate(range(0, num_samples, CHUNK)):
        size = min(CHUNK, num_samples - start)
        parts.append(dist.sample(size, seed=(seed, k)).numpy())
    return np.concatenate(parts)


def sample_shuffled(cfg, num_samples, call_size, seed, support, order_logs, groups):
    """Samples in calls of `call_size`; identifies each call's class order from its chain logits.

    Each call draws all its samples with one class order. The sum of the conditional logits that
    `sample_with_details` returns is the log-pmf of the order used; it is matched (to 1e-6)
    against the numpy merged-scheme pmf of every order. Returns samples [N, c], the component
    (index into `groups`, orders with identical pmfs) of each call, the number of calls whose
    matching orders spanned several distinct components (0 expected) and the largest mismatch
    |chain - numpy log pmf| for the identified order.
    """
    dist = relaxed(cfg, "merged", shuffle=True)
    group_of = {k: g for g, group in enumerate(groups) for k in group}
    parts, call_groups, ambiguous, worst = [], [], 0, 0.
    for k, start in enumerate(range(0, num_samples, call_size)):
        size = min(call_size, num_samples - start)
        details = dist.sample_with_details(size, seed=(seed, k))
        chain, counts = chain_log_prob(details)
        rows = support.rows(counts)
        errors = np.max(np.abs(order_logs[:, rows] - chain[None]), axis=1)   # [6]
        matches = np.flatnonzero(errors < 1e-6)
        if len(matches) == 0:
            raise RuntimeError(f"call {k}: the sampler's chain log-pmf matches no class order "
                               f"(smallest error {errors.min():.3g})")
        ambiguous += int(len({group_of[int(j)] for j in matches}) > 1)
        call_groups.append(group_of[int(matches[0])])
        worst = max(worst, float(errors[matches[0]]))
        parts.append(counts)
    return np.concatenate(parts), call_groups, ambiguous, worst


# --------------------------------------------------------------------------------------------
# One configuration


def run_config(cfg, settings):
    start = time.time()
    num_samples, call_size = settings["num_samples"], settings["call_size"]
    seed = config_seed(cfg)
    m, n, w = np.asarray(cfg["m"]), cfg["n"], np.asarray(cfg["w"], np.float64)
    c = len(m)
    support = Support(m, n)
    x64 = support.x.astype(np.float64)
    log_exact = ref.log_unnormalized(m, np.log(w), support.x)
    log_exact -= special.logsumexp(log_exact)
    p_exact = np.exp(log_exact)
    mean_exact = p_exact @ support.x
    orders, order_logs = order_log_pmfs(support, w)
    groups = distinct_components(order_logs)
    identity = orders.index(tuple(range(c)))
    log_merged = order_logs[identity]
    log_mixture = special.logsumexp(order_logs, axis=0) - np.log(len(orders))
    method_log_pmf = dict(exact=log_exact, merged=log_merged, merged_shuffled=log_mixture)

    # Verification of the library against numpy (tables, log_prob, sampler conditionals).
    verify = {}
    mvhg = tfp_mvhg.MultivariateHypergeometric(m.astype(np.float64), float(n),
                                               weights=w.astype(np.float64))
    lp = mvhg.log_prob(x64).numpy()
    verify["mvhg_log_prob_tv"] = total_variation(lp, log_exact)
    verify["mvhg_log_prob_max_abs_err"] = float(np.max(np.abs(lp - log_exact)))
    verify["mvhg_mean_max_abs_err"] = float(np.max(np.abs(mvhg.mean().numpy() - mean_exact)))
    lp = relaxed(cfg, "exact").log_prob(x64).numpy()
    verify["relaxed_exact_log_prob_tv"] = total_variation(lp, log_exact)
    verify["relaxed_exact_log_prob_max_abs_err"] = float(np.max(np.abs(lp - log_exact)))
    tv_cross, err_cross = 0., 0.
    for k, order in enumerate(orders):
        order = list(order)
        lp = relaxed(cfg, "merged", m=m[order], w=w[order]).log_prob(x64[:, order]).numpy()
        tv_cross = max(tv_cross, total_variation(lp, order_logs[k]))
        err_cross = max(err_cross, float(np.max(np.abs(lp - order_logs[k]))))
    verify["relaxed_merged_log_prob_tv_max_over_orders"] = tv_cross
    verify["relaxed_merged_log_prob_max_abs_err"] = err_cross
    for method in ("exact", "merged"):
        details = relaxed(cfg, method).sample_with_details(CHECK_SAMPLES, seed=(seed, 9000))
        chain, counts = chain_log_prob(details)
        target = method_log_pmf[method][support.rows(counts)]
        verify[f"sampler_{method}_chain_logits_max_abs_err"] = float(np.max(np.abs(chain - target)))
    same = True
    for method in ("exact", "merged"):
        a = relaxed(cfg, method, temperature=1.0).sample(1000, seed=(seed, 9001)).numpy()
        b = relaxed(cfg, method, temperature=0.05).sample(1000, seed=(seed, 9001)).numpy()
        same &= bool(np.array_equal(a, b))
    verify["hard_samples_independent_of_temperature"] = same

    result = dict(cfg=cfg, seed=seed, support_size=int(len(support.x)),
                  exact_mean=mean_exact.tolist(), verify=verify, methods={},
                  exact_marginals=[trimmed_pmf(support.x[:, i], p_exact, m[i] + 1)
                                   for i in range(c)])
    for mi, method in enumerate(METHODS):
        tf_seed = seed + 7919 * (mi + 1)
        extra = {}
        if method == "merged_shuffled":
            samples, call_groups, ambiguous, worst = sample_shuffled(
                cfg, num_samples, call_size, tf_seed, support, order_logs, groups)
            sizes = [min(call_size, num_samples - s) for s in range(0, num_samples, call_size)]
            draws_per_group = np.bincount(call_groups, weights=sizes, minlength=len(groups))
            extra = dict(components=[[list(orders[k]) for k in group] for group in groups],
                         calls=len(call_groups), call_size=call_size,
                         calls_per_component=np.bincount(call_groups,
                                                         minlength=len(groups)).tolist(),
                         calls_matching_distinct_components=ambiguous,
                         order_identification_max_abs_err=worst)
        else:
            samples = sample_fixed(cfg, method, num_samples, tf_seed)
        if not (np.all(samples == np.rint(samples)) and np.all(samples.sum(1) == n)):
            raise RuntimeError(f"{method}: hard samples are not integer counts summing to n")
        support.rows(samples)   # raises if outside the support
        log_pmf = method_log_pmf[method]
        # exact: the library's log_prob of the sampler's distribution vs numpy (tables check);
        # merged: numpy pmf of the scheme (cross-checked against the library above).
        tv = (verify["relaxed_exact_log_prob_tv"] if method == "exact"
              else total_variation(log_pmf, log_exact))
        info = dict(tv_to_exact=tv,
                    pmf_mean=(np.exp(log_pmf) @ support.x).tolist(),
                    sample_mean=samples.mean(0).tolist(), tf_seed=[tf_seed, "chunk/call index"],
                    ks={}, hist=dict(samples=[trimmed_histogram(samples[:, i], m[i] + 1)
                                              for i in range(c)]), **extra)
        for ri, reference in enumerate(REFERENCES):
            rng_seed = [seed, mi, ri]
            rng = np.random.default_rng(rng_seed)
            if reference == "exact":
                ref_samples = draw(rng, support, log_exact, num_samples)
            elif method == "merged_shuffled":
                ref_samples = np.concatenate([
                    draw(rng, support, order_logs[group[0]], int(draws_per_group[g]))
                    for g, group in enumerate(groups) if draws_per_group[g] > 0])
            else:
                ref_samples = draw(rng, support, log_merged, num_samples)
            tests = [stats.ks_2samp(samples[:, i], ref_samples[:, i]) for i in range(c)]
            info["ks"][reference] = dict(statistic=[float(t.statistic) for t in tests],
                                         p_value=[float(t.pvalue) for t in tests],
                                         numpy_seed=rng_seed)
            info["hist"][f"ref_{reference}"] = [trimmed_histogram(ref_samples[:, i], m[i] + 1)
                                                for i in range(c)]
        result["methods"][method] = info
    result["runtime_s"] = time.time() - start
    result["code_version"] = CODE_VERSION
    return result


# --------------------------------------------------------------------------------------------
# Aggregation, report, figures


def null_is_true(res, method, reference, tol=1e-6):
    """Whether the sampler's pmf equals the reference's pmf (TV < tol), from the exact TVs."""
    if reference == "merged":
        tv = res["methods"]["merged"]["tv_to_exact"] if method == "exact" else 0.
    else:
        tv = res["methods"][method]["tv_to_exact"]
    return tv < tol


def add_bh(report):
    """BH within each (sweep, method, reference) family; stores q-values and rejection counts.

    Also counts rejections of true nulls (sampler pmf = reference pmf up to TV 1e-6): BH controls
    the false-discovery rate, so in families where most nulls are false a few are expected.
    """
    families = {}
    for sweep, (_, _, entries) in report["sweeps"].items():
        for method in METHODS:
            for reference in REFERENCES:
                p = np.array([report["configs"][e["key"]]["methods"][method]["ks"][reference]
                              ["p_value"] for e in entries])                      # [configs, c]
                q = benjamini_hochberg(p)
                null = np.array([null_is_true(report["configs"][e["key"]], method, reference)
                                 for e in entries])
                rejected = q <= ALPHA
                families[f"{sweep}/{method}/{reference}"] = dict(
                    tests=int(p.size), rejections=int(np.sum(rejected)),
                    rejections_per_config=np.sum(rejected, axis=1).tolist(),
                    true_nulls=int(3 * np.sum(null)),
                    rejected_true_nulls=int(np.sum(rejected[null])),
                    rejected_true_null_raw_p=p[null][rejected[null]].tolist(),
                    q_values=q.tolist(), min_q=float(q.min()))
    report["bh_families"] = families


def component_counts(info):
    """'first class k: calls' per distinct-pmf group of class orders (classes numbered from 1)."""
    parts = []
    for group, calls in zip(info["components"], info["calls_per_component"], strict=True):
        firsts = sorted({order[0] + 1 for order in group})
        label = f"first {firsts[0]}" if len(firsts) == 1 else "any order"
        parts.append(f"{label}: {calls}")
    return ", ".join(parts)


def fmt(v, digits=3):
    if v == 0:
        return "0"
    if abs(v) < 1e-3:
        return f"{v:.1e}"
    return f"{v:.{digits}f}"


def write_markdown(report, path):
    s = report["settings"]
    lines = [
        "# KS study: relaxed MVHG sampler vs exact and merged-scheme references",
        "",
        f"Command: `{s['command']}`. Machine: {report['machine']['summary']}. "
        f"Runtime: {report['runtime_s']:.0f} s for this invocation "
        f"(sum of per-configuration times {report['config_runtime_s']:.0f} s). "
        f"tfp_mvhg code: {'; '.join(report['code_versions'])}.",
        "",
        f"{s['num_samples']} hard samples per configuration and method (temperature "
        f"{TEMPERATURE}; hard samples are Gumbel-max draws and do not depend on it: checked "
        f"bit-identical at 1.0 and 0.05 for every configuration: "
        f"{report['all_hard_samples_independent_of_temperature']}). "
        f"Two-sample KS per class against {s['num_samples']} independent numpy draws; "
        f"Benjamini-Hochberg within each (sweep, method, reference) family, alpha = {ALPHA}. "
        "`merged_shuffled` draws in calls of "
        f"{s['call_size']} with a new class order per call; its merged reference uses the "
        "same orders as often as the sampler did (identified exactly per call), its TV is that "
        "of the uniform mixture over the 6 orders. TV = exact total-variation distance of the "
        "method's hard-sample pmf to the true MVHG (by enumeration; = max over events).",
        "",
        "## Summary per sweep and method",
        "",
        "Rejections count BH-significant tests out of all (configurations x 3 classes); in "
        "brackets: rejected / tested true nulls, i.e. tests where the sampler's pmf equals the "
        "reference's pmf (exact TV < 1e-6). BH controls the false-discovery rate, so where most "
        "nulls of a family are false its threshold approaches alpha and an occasional true null "
        "is rejected.",
        "",
        "| sweep | method | max TV to MVHG | KS rejections vs exact ref | "
        "KS rejections vs merged ref |",
        "|---|---|---:|---:|---:|",
    ]
    for sweep, (_, _, entries) in report["sweeps"].items():
        for method in METHODS:
            tv = max(report["configs"][e["key"]]["methods"][method]["tv_to_exact"]
                     for e in entries)
            fam = [report["bh_families"][f"{sweep}/{method}/{r}"] for r in REFERENCES]
            cells = [f"{f['rejections']}/{f['tests']} ({f['rejected_true_nulls']}/"
                     f"{f['true_nulls']} true nulls)" for f in fam]
            lines.append(f"| {sweep} | {method} | {fmt(tv)} | {cells[0]} | {cells[1]} |")
    for sweep, (param, description, entries) in report["sweeps"].items():
        lines += ["", f"## Sweep over {param}", "",
                  f"{description}. Rejections are out of 3 classes (BH within the sweep; "
                  "the merged reference of `merged_shuffled` uses its realized class orders).", "",
                  f"| {param} | method | TV to MVHG | rej. vs exact | rej. vs merged | "
                  "E[X_1] method | mean X_1 sample | E[X_1] MVHG | min KS p vs exact |",
                  "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for index, e in enumerate(entries):
            res = report["configs"][e["key"]]
            for method in METHODS:
                info = res["methods"][method]
                rej = [report["bh_families"][f"{sweep}/{method}/{r}"]["rejections_per_config"]
                       [index] for r in REFERENCES]
                lines.append(
                    f"| {e['value']} | {method} | {fmt(info['tv_to_exact'])} | {rej[0]} | "
                    f"{rej[1]} | {info['pmf_mean'][0]:.3f} | {info['sample_mean'][0]:.3f} | "
                    f"{res['exact_mean'][0]:.3f} | {fmt(min(info['ks']['exact']['p_value']))} |")
    lines += ["", "## Verification of tfp_mvhg against numpy enumeration", "",
              "TV and max |log p difference| over the whole support: "
              "`MultivariateHypergeometric.log_prob`, relaxed exact `log_prob`, relaxed merged "
              "`log_prob` (all 6 class orders) vs `tests/mvhg_reference.py`; sampler: the sum of "
              f"the conditional logits returned by `sample_with_details` ({CHECK_SAMPLES} draws) "
              "vs the numpy log-pmf of the drawn points; shuffled: the same for every call, "
              "against the identified order.", "",
              "| config | support | MVHG TV | MVHG max err | mean err | relaxed exact TV | "
              "relaxed merged TV | relaxed merged max err | sampler exact err | "
              "sampler merged err | shuffled err | shuffled calls per first class |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key in report["config_order"]:
        res = report["configs"][key]
        v = res["verify"]
        sh = res["methods"]["merged_shuffled"]
        lines.append(
            f"| {config_name(res['cfg'])} | {res['support_size']} | "
            f"{fmt(v['mvhg_log_prob_tv'])} | {fmt(v['mvhg_log_prob_max_abs_err'])} | "
            f"{fmt(v['mvhg_mean_max_abs_err'])} | {fmt(v['relaxed_exact_log_prob_tv'])} | "
            f"{fmt(v['relaxed_merged_log_prob_tv_max_over_orders'])} | "
            f"{fmt(v['relaxed_merged_log_prob_max_abs_err'])} | "
            f"{fmt(v['sampler_exact_chain_logits_max_abs_err'])} | "
            f"{fmt(v['sampler_merged_chain_logits_max_abs_err'])} | "
            f"{fmt(sh['order_identification_max_abs_err'])} | {component_counts(sh)} |")
    lines += ["", "Figures: " + ", ".join(f"`{f}`" for f in report["figures"]), ""]
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))


def make_figures(report, out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    entries = report["sweeps"]["omega2"][2]
    chosen = [e for e in entries if e["value"] in (1, 5, 10)]
    styles = dict(exact=("tab:blue", "-"), merged=("tab:red", "-"),
                  merged_shuffled=("tab:orange", "--"))

    def step(ax, hist, total, **kw):
        counts = np.asarray(hist["counts"], np.float64) / total
        xs = hist["offset"] + np.arange(len(counts))
        ax.step(xs, counts, where="mid", **kw)

    def pmf_line(ax, marg, **kw):
        xs = marg["offset"] + np.arange(len(marg["pmf"]))
        ax.plot(xs, marg["pmf"], **kw)

    total = report["settings"]["num_samples"]
    for method in METHODS + ("all",):
        if not chosen:
            break
        fig, axes = plt.subplots(len(chosen), 3, figsize=(12, 3 * len(chosen)), squeeze=False)
        for row, e in enumerate(chosen):
            res = report["configs"][e["key"]]
            for i in range(3):
                ax = axes[row, i]
                pmf_line(ax, res["exact_marginals"][i], color="k", lw=1, label="MVHG pmf")
                if method == "all":
                    for name in METHODS:
                        color, ls = styles[name]
                        step(ax, res["methods"][name]["hist"]["samples"][i], total, color=color,
                             ls=ls, label=name)
                else:
                    info = res["methods"][method]
                    color, ls = styles[method]
                    step(ax, info["hist"]["ref_exact"][i], total, color="0.6", lw=2,
                         label="numpy exact ref")
                    if method != "exact":
                        step(ax, info["hist"]["ref_merged"][i], total, color="tab:green",
                             ls=":", label="numpy merged ref")
                    step(ax, info["hist"]["samples"][i], total, color=color, ls=ls,
                         label=f"{method} samples")
                ax.set_title(f"omega_2 = {e['value']}, class {i + 1}", fontsize=9)
                ax.set_xlabel("count")
        axes[0, 0].legend(fontsize=7)
        title = "all methods" if method == "all" else f"method = {method}"
        fig.suptitle(f"Class-count histograms, {title} "
                     f"(m = [200, 200, 200], n = 180, {total} samples)")
        fig.tight_layout()
        name = f"ks_hist_{method}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=90)
        plt.close(fig)
        figures.append(name)

    for sweep, (param, description, entries) in report["sweeps"].items():
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
        values = [e["value"] for e in entries]
        for method in METHODS:
            tv = [report["configs"][e["key"]]["methods"][method]["tv_to_exact"] for e in entries]
            color, ls = styles[method]
            axes[0].plot(values, tv, marker="o", color=color, ls=ls, label=method)
            axes[1].plot(values, np.maximum(tv, 1e-17), marker="o", color=color, ls=ls,
                         label=method)
        axes[0].set_ylabel("TV to the true MVHG")
        axes[1].set_yscale("log")
        axes[1].set_ylabel("TV (log scale, floored at 1e-17)")
        for ax in axes:
            ax.set_xlabel(param)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle(f"Exact TV of the hard-sample distribution to the MVHG vs {param} "
                     f"({description})", fontsize=9)
        fig.tight_layout()
        name = f"ks_tv_vs_{sweep}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=90)
        plt.close(fig)
        figures.append(name)
    return figures


def machine_info():
    info = dict(platform=platform.platform(), processor=platform.processor(),
                cpu_count=os.cpu_count(), python=platform.python_version(),
                numpy=np.__version__, scipy=scipy.__version__, tensorflow=tf.__version__,
                tensorflow_probability=tfp.__version__, tfp_mvhg=tfp_mvhg.__version__)
    info["summary"] = (f"{platform.machine()}, {os.cpu_count()} cores, TF {tf.__version__}, "
                       f"TFP {tfp.__version__}")
    return info


def save_json(report, path):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 5 configurations, 5000 samples")
    parser.add_argument("--fresh", action="store_true", help="ignore cached configurations")
    parser.add_argument("--out", default=None, help="output folder (default experiments/results,"
                        " or experiments/results/quick with --quick)")
    parser.add_argument("--samples", type=int, default=None, help="samples per test")
    parser.add_argument("--call-size", type=int, default=500,
                        help="samples per call for merged_shuffled (one class order per call)")
    args = parser.parse_args()
    begin = time.time()
    out_dir = args.out or os.path.join(HERE, "results", "quick" if args.quick else "")
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, "ks_study.json")
    command = "python experiments/ks_study.py" + "".join(
        f" {a}" for a in sys.argv[1:])
    settings = dict(num_samples=args.samples or (5000 if args.quick else 50000),
                    call_size=args.call_size, temperature=TEMPERATURE, alpha=ALPHA,
                    global_seed=GLOBAL_SEED, chunk=CHUNK, quick=args.quick, command=command,
                    methods=list(METHODS), references=list(REFERENCES), version=VERSION)

    cache = {}
    if not args.fresh and os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            cache = json.load(f).get("configs", {})
    sweeps = make_sweeps(args.quick)
    report = dict(settings=settings, machine=machine_info(), configs={}, config_order=[],
                  sweeps={})
    unique = []
    for sweep, (param, description, items) in sweeps.items():
        entries = []
        for value, cfg in items:
            key = config_key(cfg, settings)
            entries.append(dict(value=value, cfg=cfg, key=key))
            if key not in [k for k, _ in unique]:
                unique.append((key, cfg))
        report["sweeps"][sweep] = (param, description, entries)
    for index, (key, cfg) in enumerate(unique):
        label = f"[{index + 1}/{len(unique)}] {config_name(cfg)}"
        if key in cache:
            report["configs"][key] = cache[key]
            print(f"{label}: cached", flush=True)
        else:
            print(f"{label}: running ...", flush=True)
            report["configs"][key] = run_config(cfg, settings)
            report["config_order"] = [k for k, _ in unique if k in report["configs"]]
            save_json(report, json_path)
        res = report["configs"][key]
        tv = ", ".join(f"{m} {fmt(res['methods'][m]['tv_to_exact'])}" for m in METHODS)
        ks = ", ".join(f"{m} {fmt(min(res['methods'][m]['ks']['exact']['p_value']))}"
                       for m in METHODS)
        print(f"    TV to MVHG: {tv}; min KS p vs exact ref: {ks}; "
              f"{res['runtime_s']:.1f} s", flush=True)
    report["config_order"] = [k for k, _ in unique]
    add_bh(report)
    versions = []
    for k, _ in unique:
        v = report["configs"][k].get("code_version")
        text = ("not recorded" if v is None else
                f"git {v['git_head']}" + (f" + modified {v['tfp_mvhg_modified']}"
                                          if v["tfp_mvhg_modified"] else "")
                + f", sources sha256 {v['tfp_mvhg_sha256']}")
        if text not in versions:
            versions.append(text)
    report["code_versions"] = versions
    report["config_runtime_s"] = sum(report["configs"][k]["runtime_s"] for k, _ in unique)
    report["all_hard_samples_independent_of_temperature"] = all(
        report["configs"][k]["verify"]["hard_samples_independent_of_temperature"]
        for k, _ in unique)
    report["figures"] = make_figures(report, out_dir)
    report["runtime_s"] = time.time() - begin
    report["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    save_json(report, json_path)
    write_markdown(report, os.path.join(out_dir, "ks_study.md"))
    print(f"wrote {json_path}, ks_study.md and {len(report['figures'])} figures to {out_dir} "
          f"in {report['runtime_s']:.0f} s", flush=True)
    for name, fam in report["bh_families"].items():
        print(f"  {name}: {fam['rejections']}/{fam['tests']} KS rejections after BH "
              f"({fam['rejected_true_nulls']}/{fam['true_nulls']} true nulls rejected)",
              flush=True)


if __name__ == "__main__":
    main()
