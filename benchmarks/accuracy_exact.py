# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Accuracy of log_prob, mean, covariance and KL against brute-force enumeration.

Random configurations (c = 2..5, m_i in 0..8, n in 0..N, logits ~ N(0, 3)), float64 and float32;
reports the largest relative error |ours - reference| / max(|reference|, 1) per quantity.
Run: `.venv/bin/python benchmarks/accuracy_exact.py [--configs 200] [--out PATH]`; writes PATH
(default `runs/accuracy_exact.json`; the committed results are
`benchmarks/results/accuracy_exact.json`, refreshed only when that path is given).
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import mvhg_reference as ref  # noqa: E402  (numpy/scipy enumeration, independent of tfp_mvhg)
import tfp_mvhg  # noqa: E402


def relative_error(actual, expected):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1.0)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=200)
    parser.add_argument("--out", default=os.path.join("runs", "accuracy_exact.json"),
                        help="JSON file to write (default: %(default)s)")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(2023)
    worst = {dtype: dict(log_prob=0., mean=0., covariance=0., kl=0.)
             for dtype in ("float64", "float32")}
    support_points = 0
    for index in range(args.configs):
        c = int(rng.integers(2, 6))
        m = rng.integers(0, 9, size=c).astype(np.float64)
        n = int(rng.integers(0, m.sum() + 1))
        logits, other = rng.normal(0., 3., size=c), rng.normal(0., 3., size=c)
        x, log_pmf = ref.enumerate_pmf(m, n, logits)
        _, log_other = ref.enumerate_pmf(m, n, other)
        support_points += len(x)
        mean, covariance = ref.moments(x, log_pmf)
        kl = np.sum(np.exp(log_pmf) * (log_pmf - log_other))
        for name, dtype in (("float64", tf.float64), ("float32", tf.float32)):
            p = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=tf.constant(logits, dtype))
            q = tfp_mvhg.MultivariateHypergeometric(m, float(n), logits=tf.constant(other, dtype))
            errors = dict(log_prob=relative_error(p.log_prob(x.astype(np.float64)), log_pmf),
                          mean=relative_error(p.mean(), mean),
                          covariance=relative_error(p.covariance(), covariance),
                          kl=relative_error(tfp_mvhg.kl_divergence(p, q), kl))
            for key, value in errors.items():
                worst[name][key] = max(worst[name][key], value)
        if (index + 1) % 50 == 0:
            print(f"[{index + 1}/{args.configs}] worst so far: {worst}", flush=True)
    report = dict(configs=args.configs, support_points=support_points, max_relative_error=worst)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
