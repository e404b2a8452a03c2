# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Accuracy of the exact relaxed sampler with `table_dtype=tf.float32`, against its stated bound.

Two measurements:
  * enumeration: random configurations small enough to list the support (c = 3..5, m_i in
    20..40, n with (n + 1) W >= 1024 so that the linear-space tables run, logits ~ N(0, 1.5));
    the exact law of the hard draws (the product of the sampler's conditionals at every support
    point) against the MVHG pmf by enumeration (`tests/mvhg_reference.py`, numpy/scipy), in
    total variation, for float32 and float64 tables;
  * the side-by-side sizes (3, 200, 180) and (10, 256, 256), 64 rows of log-weights (log
    linspace(0.5, 3, c) + N(0, 0.1), as `bench_side_by_side.py`, and N(0, 2)): the float32
    tables against the float64 log-space tables (`suffix_log_tables`, which the tests check
    against enumeration): the largest relative error of an entry far above the truncation
    threshold t, and sum_i E_r[TV between the two tables' conditionals of class i], r_i the
    remaining count's law: a bound on the hard draws' total variation.

The stated bound (`suffix_tables.tilted_suffix_log_tables`): entries off by at most
delta = (c - 1)(W + 1) 2^-24 relative, each conditional by delta / (1 - delta) and the hard draws'
law by c delta / (1 - delta) in total variation.

Run: `.venv/bin/python benchmarks/accuracy_float32_tables.py [--configs 20] [--rows 64]
[--out PATH]`;
writes PATH (default `runs/accuracy_float32_tables.json`) and a markdown table beside it (the
committed results: `benchmarks/results/accuracy_float32_tables.{json,md}`).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)
import mvhg_reference as ref  # noqa: E402  (numpy/scipy enumeration, independent of tfp_mvhg)
from tfp_mvhg.internal import conditionals  # noqa: E402
from tfp_mvhg.internal import suffix_tables  # noqa: E402

LARGE_SIZES = [(3, 200, 180), (10, 256, 256)]


def stated_bound(num_classes, window):
    """(delta, c delta / (1 - delta)): the entries' relative and the draws' TV bound."""
    delta = (num_classes - 1) * (window + 1) * 2.**-24
    return delta, num_classes * delta / (1. - delta)


def chain_log_pmf(num, logits, total, support, table_dtype):
    """log of the product of the sampler's conditionals at every support point `[S, c]`."""
    num = tf.constant([num], tf.float64)
    logits = tf.constant([logits], tf.float64)
    window = int(min(np.max(num), total)) + 1
    tables = conditionals.conditional_tables(
        num, logits, total + 1, window, "exact", tf.constant([float(total)], tf.float64),
        table_dtype)
    counts = tf.constant(support[:, None, :], tf.int32)

    def visit(i, alpha, _, remaining):
        return counts[..., i], tf.gather(alpha, counts[..., i], batch_dims=2)

    remaining = tf.fill([len(support), 1], total)
    log_probs = conditionals.class_by_class(num, logits, tables, remaining, window, visit)
    return tf.add_n(log_probs).numpy()[:, 0]


def enumeration_study(configs, seed=2026):
    rng = np.random.default_rng(seed)
    rows = []
    while len(rows) < configs:
        c = int(rng.integers(3, 6))
        num = rng.integers(20, 41, size=c).astype(np.float64)
        total = int(rng.integers(31, min(int(num.sum()), 50 if c == 5 else 70) + 1))
        window = int(min(num.max(), total)) + 1
        if (total + 1) * window < conditionals.LINEAR_TABLES_MIN_TERMS:
            continue
        logits = rng.normal(0., 1.5, size=c)
        support, log_pmf = ref.enumerate_pmf(num, total, logits)
        row = dict(c=c, m=num.tolist(), n=total, logits=logits.tolist(), support=len(support),
                   stated_tv=stated_bound(c, window)[1])
        for name, dtype in (("float64", tf.float64), ("float32", tf.float32)):
            chain = np.exp(chain_log_pmf(num, logits, total, support, dtype))
            row[f"tv_{name}"] = float(0.5 * np.sum(np.abs(chain - np.exp(log_pmf))))
        rows.append(row)
        print(f"enumeration {len(rows)}/{configs}: c={c} n={total} support={len(support):,} "
              f"TV float32 {row['tv_float32']:.2e} (stated <= {row['stated_tv']:.2e}), "
              f"float64 {row['tv_float64']:.2e}", flush=True)
    return rows


def expected_conditional_tv(num, logits, tables, reference, total, window):
    """sum over classes 0..c-2 of E_r[TV] between the conditionals of `tables` and
    `reference` (`[c, K, B]`), r_i distributed as the reference chain's remaining count: `[B]`,
    a bound on the hard draws' total variation (couple the chains class by class)."""
    rows = int(logits.shape[0])
    remaining = tf.broadcast_to(tf.range(total + 1)[:, None], [total + 1, rows])
    law = np.zeros([total + 1, rows])
    law[total] = 1.                                          # r_0 = n
    bound = np.zeros([rows])
    for i in range(int(logits.shape[-1]) - 1):
        alpha = [conditionals.class_conditional_logits(num[:, i], logits[:, i], t[i],
                                                       remaining, window)[0].numpy()
                 for t in (tables, reference)]                # [K, B, W] each
        probs = [np.exp(a) for a in alpha]
        bound += np.sum(law * 0.5 * np.sum(np.abs(probs[0] - probs[1]), axis=-1), axis=0)
        following = np.zeros_like(law)
        for x in range(window):                              # r_{i+1} = r_i - x
            following[:total + 1 - x] += law[x:] * probs[1][x:, :, x]
        law = following
    return bound


def large_study(rows=64, seed=7):
    rng = np.random.default_rng(seed)
    results = []
    for c, m, n in LARGE_SIZES:
        window = min(m, n) + 1
        for spread, base in (("side-by-side inputs", True), ("logits ~ N(0, 2)", False)):
            theta = (np.log(np.linspace(0.5, 3., c))[None] + 0.1 * rng.standard_normal((rows, c))
                     if base else rng.normal(0., 2., size=(rows, c)))
            num = tf.fill([rows, c], tf.constant(float(m), tf.float64))
            logits = tf.constant(theta, tf.float64)
            total = tf.fill([rows], tf.constant(float(n), tf.float64))
            tables = {dtype.name: suffix_tables.tilted_suffix_log_tables(
                num, logits, total, n + 1, window, convolution_dtype=dtype)
                for dtype in (tf.float32, tf.float64)}
            reference = suffix_tables.suffix_log_tables(num, logits, n + 1, window, first=1)
            # The rounding's relative error, apart from the truncation near t: the entries at
            # least e^20 t in the tilted scale, against the float64 tables' (same truncation).
            tilt, _, untilt = (value.numpy() for value in
                               suffix_tables.tilted_scales(num, logits, total))
            k = np.arange(n + 1)[None, :, None]
            tilted = reference.numpy()[:-1] + tilt[None, None] * k - untilt[:, None]
            log_threshold = suffix_tables.truncation_log_threshold(c, window, c * m).numpy()
            far = tilted >= log_threshold + 20.
            relative = np.abs(np.expm1(tables["float32"].numpy()[:-1][far]
                                       - reference.numpy()[:-1][far]))
            tv = {name: expected_conditional_tv(num, logits, value, reference, n, window)
                  for name, value in tables.items()}
            delta, stated_tv = stated_bound(c, window)
            results.append(dict(size=[c, m, n], rows=rows, inputs=spread,
                                max_relative_entry_error=float(relative.max()),
                                stated_relative=delta,
                                draws_tv_bound_float32=float(tv["float32"].max()),
                                draws_tv_bound_float64=float(tv["float64"].max()),
                                stated_draws_tv=stated_tv))
            print(f"({c}, {m}, {n}) {spread}: entries {relative.max():.2e} relative (stated <= "
                  f"{delta:.2e}), draws TV <= {tv['float32'].max():.2e} (stated "
                  f"{stated_tv:.2e}; float64 tables {tv['float64'].max():.2e})", flush=True)
    return results


def markdown(report):
    lines = ["# Float32 tables (`table_dtype=tf.float32`): accuracy against the stated bound", "",
             f"Command: `{report['command']}`; {report['seconds']:.0f} s on {report['machine']}.",
             "", "Hard draws' law (product of the conditionals) against enumeration, total "
             "variation:", "",
             "| c | m | n | support | TV float32 | stated bound | TV float64 |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for row in report["enumeration"]:
        lines.append(f"| {row['c']} | {', '.join(str(int(v)) for v in row['m'])} | {row['n']} "
                     f"| {row['support']:,} | {row['tv_float32']:.1e} | {row['stated_tv']:.1e} "
                     f"| {row['tv_float64']:.1e} |")
    lines += ["", "Side-by-side sizes, against the float64 log-space tables, largest over the "
              "rows: the relative error of the float32 entries at least e^20 t (tilted), and "
              "the bound sum_i E_r[TV of class i's conditional] on the hard draws' total "
              "variation:", "",
              "| (c, m, n) | inputs | rows | entry relative error | stated | draws TV, float32 "
              "| stated | draws TV, float64 linear tables |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in report["large"]:
        lines.append(f"| {tuple(row['size'])} | {row['inputs']} | {row['rows']} | "
                     f"{row['max_relative_entry_error']:.1e} | {row['stated_relative']:.1e} | "
                     f"{row['draws_tv_bound_float32']:.1e} | {row['stated_draws_tv']:.1e} | "
                     f"{row['draws_tv_bound_float64']:.1e} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=20,
                        help="enumerated configurations (%(default)s)")
    parser.add_argument("--rows", type=int, default=64,
                        help="rows of log-weights at each large size (%(default)s)")
    parser.add_argument("--out", default=os.path.join("runs", "accuracy_float32_tables.json"),
                        help="JSON file to write, the markdown beside it (default: %(default)s)")
    args = parser.parse_args(argv)
    start = time.time()
    report = dict(enumeration=enumeration_study(args.configs), large=large_study(args.rows))
    report.update(seconds=time.time() - start, machine=f"{os.cpu_count()} cores",
                  command="python benchmarks/accuracy_float32_tables.py "
                          + " ".join(argv if argv is not None else sys.argv[1:]),
                  tensorflow=tf.__version__)
    worst = max(row["tv_float32"] / row["stated_tv"] for row in report["enumeration"])
    report["within_stated_bound"] = bool(
        worst <= 1. and all(row["max_relative_entry_error"] <= row["stated_relative"]
                            and row["draws_tv_bound_float32"] <= row["stated_draws_tv"]
                            for row in report["large"]))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=1)
    with open(os.path.splitext(args.out)[0] + ".md", "w", encoding="utf-8") as handle:
        handle.write(markdown(report))
    print(f"within the stated bound: {report['within_stated_bound']}; wrote {args.out}")
    return 0 if report["within_stated_bound"] else 1


if __name__ == "__main__":
    sys.exit(main())
