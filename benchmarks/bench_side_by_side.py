# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Side by side with the paper's released code: relaxed MVHG, per-row log-weights, fwd+bwd.

The relaxed sampler with one row of class log-weights per sample (the Keras layer's case),
forward + backward.

Contenders (`--contenders`, default all):
  paper_tf          the paper's `mvhg/tf_fmvhg.py` (a TF1 graph in a `tf.compat.v1.Session`, run
                    with this interpreter), fetching the counts and the gradient only;
  paper_tf_masks    the same graph, also fetching the `[rows, 1, m + 1]` masks its algorithm
                    returns (a graph computes only what is fetched; the PyTorch code always
                    builds them);
  paper_pt          the paper's `mvhg/pt_fmvhg.py` on the CPU, run with `--torch-python`;
  exact_function, exact_xla, merged_function, merged_xla
                    `tfp_mvhg.RelaxedMultivariateHypergeometric(method="exact" | "merged")` in a
                    `tf.function`, without and with `jit_compile=True`;
  exact32_function  the exact method with `table_dtype=tf.float32` (opt-in float32 convolutions
                    of the tables, within a stated total-variation error) in a `tf.function`.

Each call draws counts for `rows` rows of log-weights [rows, c] = log linspace(0.5, 3, c) +
N(0, 0.1) (temperature 0.5, hard=True) and takes the gradient of sum(counts * w) (w ~ N(0, 1),
fixed) with respect to the log-weights. Each (size, contender) runs in its own child process with
2 threads (TF: intra-op 2, inter-op 1; torch: set_num_threads(2)), under the CPU lock if one is
given (taken per child, so waiting does not count), killed above `--cap-gib` resident memory or
after `--time-limit` seconds. A child times one warm-up call, then `--repeats` calls: rows/s from
the best and the median call; peak RSS from getrusage; and, over all its calls, the fraction of
rows whose counts do not sum to n.

Run: `.venv/bin/python benchmarks/bench_side_by_side.py --paper-code DIR --torch-python PATH
[--quick | --sizes 'c,m,n,rows;...'] [--contenders a,b] [--repeats 5] [--cpu-lock FILE]
[--out-dir benchmarks/results] [--force]`. DIR holds the paper's `mvhg/` package; it is imported
from there, never copied. Writes `side_by_side.json` (every measurement, settings, machine,
versions) and `side_by_side.md` into the out dir after every child (`--quick`:
`side_by_side_quick.*`, by default in `runs/`); a rerun measures only the cells that are missing
or failed, or were measured with other settings (`--force`: all).
"""

import argparse
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_exact import _machine  # noqa: E402  (after the path fix)
from bench_exact import _memory_kib  # noqa: E402  (after the path fix)
from bench_exact import _run_capped  # noqa: E402  (after the path fix)

SIZES = [(3, 200, 180, 10000), (10, 256, 256, 256), (10, 10, 10, 4096), (2, 10, 10, 10000),
         (2, 10, 10, 64)]
QUICK_SIZES = [(3, 20, 18, 200), (2, 10, 10, 64)]
CONTENDERS = {
    "paper_tf": "paper TF, counts",
    "paper_tf_masks": "paper TF, counts + masks",
    "paper_pt": "paper PyTorch",
    "exact_function": "exact, tf.function",
    "exact_xla": "exact, XLA",
    "exact32_function": "exact, float32 tables, tf.function",
    "merged_function": "merged, tf.function",
    "merged_xla": "merged, XLA",
}
PAPER_CONTENDERS = ("paper_tf", "paper_tf_masks", "paper_pt")
TEMPERATURE = 0.5
DONE = ("ok", "over cap", "timeout")


# ------------------------------------------------------------------ child: one measurement


def _inputs(np, c, rows):
    """Per-row log-weights [rows, c] and the fixed loss weights [c], float32."""
    theta = np.log(np.linspace(0.5, 3.0, c)) + np.random.default_rng(2).normal(0., 0.1, (rows, c))
    loss_weights = np.random.default_rng(1).normal(size=c)
    return theta.astype(np.float32), loss_weights.astype(np.float32)


def _set_tf_threads(tf, threads):
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def _build_paper_tf(args, size, theta, loss_weights):
    """The paper's TF graph and a Session; call(i) -> (counts, grad) as numpy."""
    import numpy as np
    import tensorflow as tf
    _set_tf_threads(tf, args.threads)
    c, m, n, _ = size
    np.random.seed(0)  # the paper code draws its class order with np.random.permutation
    from mvhg import tf_fmvhg as paper  # its import disables eager execution

    log_w = tf.Variable(theta, name="log_w")
    m_all = tf.Variable(tf.constant([m] * c, tf.float32))
    n_var = tf.Variable(tf.constant([n], tf.float32))
    tau = tf.Variable(tf.constant([TEMPERATURE]))
    _, x_all, _, masks, _ = paper.pmf_noncentral_fmvhg(m_all, n_var, log_w, tau, c,
                                                       add_gumbel_noise=True, hard=True)
    counts = tf.concat([tf.reshape(x, [-1, 1]) for x in x_all], axis=1)      # [rows, c]
    (grad,) = tf.compat.v1.gradients(tf.reduce_sum(counts * loss_weights), log_w)
    fetches = [counts, grad] + (list(masks) if args.child == "paper_tf_masks" else [])
    session = tf.compat.v1.Session(config=tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=args.threads, inter_op_parallelism_threads=1))
    session.run(tf.compat.v1.global_variables_initializer())

    def call(i):
        del i
        values = session.run(fetches)
        return values[0], values[1]
    return call, dict(framework=f"tensorflow {tf.__version__}, graph mode (tf.compat.v1.Session)",
                      code=paper.__file__, fetched_masks=len(fetches) > 2)


def _build_paper_pt(args, size, theta, loss_weights):
    """The paper's PyTorch module on the CPU; call(i) -> (counts, grad) as numpy."""
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    c, m, n, rows = size
    np.random.seed(0)  # the paper code draws a class order with np.random.permutation per call
    torch.manual_seed(0)
    from mvhg import pt_fmvhg as paper

    sampler = paper.MVHG(device="cpu", eps=1e-20)
    m_all = torch.tensor([m] * c)
    n_rows = torch.full((rows, 1), n)
    log_w = torch.tensor(theta, requires_grad=True)
    w = torch.tensor(loss_weights)

    def call(i):
        del i
        log_w.grad = None
        _, x_all, _, _ = sampler(m_all, n_rows, log_w, TEMPERATURE, add_noise=True, hard=True)
        counts = torch.cat([x.reshape(rows, 1) for x in x_all], dim=1)      # [rows, c]
        (counts * w).sum().backward()
        return counts.detach().numpy(), log_w.grad.numpy()
    return call, dict(framework=f"torch {torch.__version__} (CPU, eager)", code=paper.__file__,
                      torch_threads=[torch.get_num_threads(), torch.get_num_interop_threads()])


def _build_ours(args, size, theta, loss_weights):
    """tfp_mvhg's relaxed sampler, as bench_relaxed.py's per-row case; call(i) -> numpy."""
    import tensorflow as tf
    _set_tf_threads(tf, args.threads)
    import tfp_mvhg

    c, m, n, _ = size
    method, mode = args.child.split("_")
    table_dtype = "float64"
    if method == "exact32":
        method, table_dtype = "exact", "float32"
    logits = tf.Variable(theta, name="logits")
    w = tf.constant(loss_weights)
    dist = tfp_mvhg.RelaxedMultivariateHypergeometric(
        [float(m)] * c, float(n), TEMPERATURE, logits=logits, hard=True,
        method=method, table_dtype=table_dtype)

    def forward_backward(seed):
        with tf.GradientTape() as tape:
            counts = dist.sample(1, seed=seed)[0]                            # [rows, c]
            loss = tf.reduce_sum(counts * w)
        return counts, tape.gradient(loss, logits)
    fn = tf.function(forward_backward, jit_compile=(mode == "xla"))

    def call(i):
        counts, grad = fn(tf.constant([i, 2026], tf.int32))
        return counts.numpy(), grad.numpy()
    return call, dict(framework=f"tensorflow {tf.__version__}, "
                                f"tf.function(jit_compile={mode == 'xla'})",
                      code=tfp_mvhg.__file__)


def _versions():
    versions = dict(python=platform.python_version())
    for name in ("numpy", "tensorflow", "tensorflow_probability", "torch"):
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", "?")
    return versions


def run_child(args):
    """One (size, contender) in this process; prints `RESULT {json}` (or `ERROR {json}`)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("MPLBACKEND", "Agg")   # the paper's TF module imports pyplot
    sys.dont_write_bytecode = True               # leave no __pycache__ in the paper's folder
    try:
        import numpy as np
        size = _parse_sizes(args.size)[0]
        c, m, n, rows = size
        theta, loss_weights = _inputs(np, c, rows)
        if args.child in PAPER_CONTENDERS:
            sys.path.insert(0, os.path.abspath(args.paper_code))
        else:
            sys.path.insert(0, ROOT)
        build = dict(paper_tf=_build_paper_tf, paper_tf_masks=_build_paper_tf,
                     paper_pt=_build_paper_pt).get(args.child, _build_ours)
        call, info = build(args, size, theta, loss_weights)
        rss_built = _memory_kib("VmRSS") / 1024
        tally = dict(rows=0, sum_not_n=0, out_of_range=0, not_integer=0)

        def check(counts):
            x = np.asarray(counts, np.float64).reshape(rows, c)
            tally["rows"] += rows
            tally["sum_not_n"] += int(np.sum(np.abs(x.sum(axis=1) - n) > 1e-3))
            tally["out_of_range"] += int(np.sum(np.any((x < -1e-3) | (x > m + 1e-3), axis=1)))
            tally["not_integer"] += int(np.sum(np.any(np.abs(x - np.round(x)) > 1e-3, axis=1)))

        begin = time.perf_counter()
        counts, grad = call(0)
        warmup = time.perf_counter() - begin
        check(counts)
        rss_before_timed = _memory_kib("VmRSS") / 1024
        times = []
        for i in range(1, args.repeats + 1):
            begin = time.perf_counter()
            counts, grad = call(i)
            times.append(time.perf_counter() - begin)
            check(counts)
        grad = np.asarray(grad, np.float64)
        best, median = min(times), statistics.median(times)
        result = dict(
            info, contender=args.child, size=list(size), repeats=args.repeats,
            threads=args.threads, warmup_s=warmup, times_s=times,
            best_rows_per_s=rows / best, median_rows_per_s=rows / median,
            peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            rss_built_mib=rss_built, rss_before_timed_mib=rss_before_timed,
            rows_checked=tally["rows"],
            fraction_rows_sum_not_n=tally["sum_not_n"] / tally["rows"],
            fraction_rows_out_of_range=tally["out_of_range"] / tally["rows"],
            fraction_rows_not_integer=tally["not_integer"] / tally["rows"],
            grad_finite_fraction=float(np.isfinite(grad).mean()),
            mean_counts_last_call=np.asarray(counts, np.float64).reshape(rows, c)
            .mean(axis=0).tolist(),
            versions=_versions())
        print("RESULT " + json.dumps(result), flush=True)
    except BaseException:  # recorded by the driver, which sees the exit code too
        print("ERROR " + json.dumps(traceback.format_exc()[-3000:]), flush=True)
        sys.exit(1)


# ------------------------------------------------------------------ driver


def _parse_sizes(text):
    sizes = []
    for part in text.split(";"):
        values = tuple(int(value) for value in part.split(","))
        if len(values) != 4 or min(values) < 1 or values[2] > values[0] * values[1]:
            raise ValueError(part)
        sizes.append(values)
    return sizes


def _fail(message):
    print(f"{os.path.basename(__file__)}: error: {message}", file=sys.stderr)
    sys.exit(2)


def _fingerprint(folder):
    """sha256 over the paper package's .py files (name and content)."""
    digest = hashlib.sha256()
    package = os.path.join(folder, "mvhg")
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(package, name), "rb") as source:
                digest.update(source.read())
    return digest.hexdigest()


def _git_commit(folder):
    try:
        commit = subprocess.run(["git", "-C", folder, "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", folder, "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return commit + (" (with local changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _machine_info():
    info = dict(summary=_machine(), platform=platform.platform(), cores=os.cpu_count())
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in cpuinfo
                                if line.startswith("model name")), None)
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            info["memory_gib"] = round(int(meminfo.readline().split()[1]) / 2 ** 20, 1)
    return info


@contextlib.contextmanager
def _cpu_lock(path):
    """Holds an exclusive flock on `path` ('' = no lock); yields the seconds waited."""
    if not path:
        yield 0.
        return
    begin = time.time()
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"  waiting for the CPU lock {path} ...", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.time() - begin
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _cell_settings(args, contender, paper_sha):
    settings = dict(repeats=args.repeats, threads=args.threads, temperature=TEMPERATURE)
    if contender in PAPER_CONTENDERS:
        settings["paper_code_sha256"] = paper_sha
    return settings


def _is_done(cell, settings, args):
    if cell is None or cell.get("status") not in DONE or cell.get("settings") != settings:
        return False
    if cell["status"] == "over cap":
        return cell["cap_gib"] >= args.cap_gib
    if cell["status"] == "timeout":
        return cell["time_limit_s"] >= args.time_limit
    return True


def _child_command(args, contender, size):
    python = args.torch_python if contender == "paper_pt" else sys.executable
    command = [python, os.path.abspath(__file__), "--child", contender,
               "--size", ",".join(map(str, size)), "--repeats", str(args.repeats),
               "--threads", str(args.threads)]
    if contender in PAPER_CONTENDERS:
        command += ["--paper-code", os.path.abspath(args.paper_code)]
    return command


def _measure(args, contender, size):
    """Runs one capped child; returns its cell."""
    command = _child_command(args, contender, size)
    with _cpu_lock(args.cpu_lock) as waited:
        load, begin = os.getloadavg(), time.time()
        stdout, status = _run_capped(command, args.cap_gib, args.time_limit)
        wall = time.time() - begin
    cell = dict(contender=contender, size=list(size), cap_gib=args.cap_gib,
                time_limit_s=args.time_limit, wall_s=wall, lock_wait_s=waited,
                load_average_at_start=load,
                measured_at=datetime.datetime.now().isoformat(timespec="seconds"))
    lines = stdout.splitlines()
    results = [line[len("RESULT "):] for line in lines if line.startswith("RESULT ")]
    errors = [line[len("ERROR "):] for line in lines if line.startswith("ERROR ")]
    if status == "ok" and results:
        cell.update(json.loads(results[-1]), status="ok")
    elif status == "exceeded":
        cell["status"] = "over cap"
    elif status == "timed out":
        cell["status"] = "timeout"
    else:
        cell["status"] = "failed"
        cell["error"] = (json.loads(errors[-1]) if errors
                         else f"{status}; no result line; stdout tail: {stdout[-500:]!r}")
    return cell


def _key(size, contender):
    return ",".join(map(str, size)) + "/" + contender


def _status_text(cell):
    if cell["status"] == "over cap":
        return f"over cap ({cell['cap_gib']:g} GiB)"
    if cell["status"] == "timeout":
        return f"timeout ({cell['time_limit_s']:g} s)"
    return cell["status"]


def _ratio(numerators, denominators):
    """Median rows/s of the best of `numerators` over the best of `denominators` (ok cells)."""
    def best(cells):
        ok = [cell for cell in cells if cell and cell["status"] == "ok"]
        return max(ok, key=lambda cell: cell["median_rows_per_s"]) if ok else None
    top, bottom = best(numerators), best(denominators)
    if not top or not bottom:
        return "n/a"
    modes = [cell["contender"].split("_")[-1] for cell in (top, bottom)
             if cell["contender"] not in PAPER_CONTENDERS]
    modes = "/".join("XLA" if mode == "xla" else "fn" for mode in modes)
    return f"{top['median_rows_per_s'] / bottom['median_rows_per_s']:.2f} ({modes})"


def _ordered_sizes(cells, first):
    """The sizes of `cells`: those in `first` (this run's) in its order, then the rest."""
    known = [tuple(size) for size in first] + SIZES + QUICK_SIZES
    present = {tuple(cell["size"]) for cell in cells.values()}
    return sorted(present, key=lambda size: (known.index(size), ()) if size in known
                  else (len(known), size))


def _markdown(report, args):
    """The tables of `report` (all its cells)."""
    cells = report["cells"]
    run = report["runs"][-1]
    sizes = _ordered_sizes(cells, run.get("settings", {}).get("sizes", []))
    times = sorted(cell["measured_at"] for cell in cells.values()) or ["-"]
    loads = [cell["load_average_at_start"][0] for cell in cells.values()] or [float("nan")]
    commits = sorted({cell.get("project_commit") or "?" for cell in cells.values()}) or ["?"]
    names = [name for name in CONTENDERS if any(cell["contender"] == name
                                                 for cell in cells.values())]

    def get(size, name):
        return cells.get(_key(size, name))

    lines = [
        "Side by side with the paper's released code: relaxed MVHG sampler, one row of class "
        "log-weights per sample (log linspace(0.5, 3, c) + N(0, 0.1)), temperature 0.5, "
        "hard=True, forward + backward (gradient of sum(counts * w) with respect to the "
        f"log-weights). Machine: {report['machine']['summary']}"
        f" ({report['machine'].get('cpu') or '?'}, {report['machine'].get('memory_gib', '?')} "
        f"GiB). {args.threads} threads per child (TF intra-op {args.threads}, inter-op 1; torch "
        f"set_num_threads({args.threads})), one child per cell, killed above {args.cap_gib:g} "
        f"GiB RSS or after {args.time_limit:g} s. One warm-up call, then {args.repeats} timed "
        "calls. Paper code sha256 "
        f"{(report['paper_code'] or {}).get('sha256', 'n/a')[:12]}; project at "
        f"{', '.join(commits)}. Cells measured {times[0]} to {times[-1]}, "
        f"load average {min(loads):.1f}-{max(loads):.1f} at the children's starts. Last "
        f"command: `{run['command']}`.", "",
        "Median rows/s (peak RSS MiB of the child):", "",
        "| (c, m, n, rows) | " + " | ".join(CONTENDERS[name] for name in names) + " |",
        "|---|" + "---:|" * len(names)]
    for size in sizes:
        row = []
        for name in names:
            cell = get(size, name)
            if cell is None:
                row.append("")
            elif cell["status"] == "ok":
                row.append(f"{cell['median_rows_per_s']:,.0f} ({cell['peak_rss_mib']:,.0f})")
            else:
                row.append(_status_text(cell))
        lines.append(f"| {size} | " + " | ".join(row) + " |")
    lines += ["", "Ratios of median rows/s (ours: the faster of tf.function (fn) and XLA); "
              "paper TF rows whose counts do not sum to n (all calls, counts-only graph):", "",
              "| (c, m, n, rows) | exact / paper PT | exact / paper TF + masks | "
              "merged / paper TF counts | exact / merged | exact f32 / paper TF + masks | "
              "exact f32 / merged | paper TF rows sum != n |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        exact = [get(size, "exact_function"), get(size, "exact_xla")]
        exact32 = [get(size, "exact32_function")]
        merged = [get(size, "merged_function"), get(size, "merged_xla")]
        paper_tf = get(size, "paper_tf")
        invalid = (f"{paper_tf['fraction_rows_sum_not_n']:.1%}"
                   if paper_tf and paper_tf["status"] == "ok" else "n/a")
        lines.append(f"| {size} | {_ratio(exact, [get(size, 'paper_pt')])} | "
                     f"{_ratio(exact, [get(size, 'paper_tf_masks')])} | "
                     f"{_ratio(merged, [paper_tf])} | {_ratio(exact, merged)} | "
                     f"{_ratio(exact32, [get(size, 'paper_tf_masks')])} | "
                     f"{_ratio(exact32, merged)} | {invalid} |")
    lines += ["", "Every cell:", "",
              "| (c, m, n, rows) | contender | best rows/s | median rows/s | peak RSS MiB | "
              "RSS before timed MiB | warm-up s | rows sum != n | grad finite | wall s |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        for name in names:
            cell = get(size, name)
            if cell is None:
                continue
            if cell["status"] != "ok":
                lines.append(f"| {size} | {CONTENDERS[name]} | {_status_text(cell)} | | | "
                             f"| | | | {cell['wall_s']:.0f} |")
                continue
            lines.append(
                f"| {size} | {CONTENDERS[name]} | {cell['best_rows_per_s']:,.0f} | "
                f"{cell['median_rows_per_s']:,.0f} | {cell['peak_rss_mib']:,.0f} | "
                f"{cell['rss_before_timed_mib']:,.0f} | {cell['warmup_s']:.2f} | "
                f"{cell['fraction_rows_sum_not_n']:.1%} of {cell['rows_checked']:,} | "
                f"{cell['grad_finite_fraction']:.0%} | {cell['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paper-code", help="folder holding the paper's mvhg/ package")
    parser.add_argument("--torch-python", help="python interpreter with torch and numpy")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--sizes", help="'c,m,n,rows;...' instead of the default sizes")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="comma-separated, of: " + ", ".join(CONTENDERS))
    parser.add_argument("--repeats", type=int, default=5, help="timed calls (%(default)s)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per child (%(default)s)")
    parser.add_argument("--cap-gib", type=float, default=16.,
                        help="kill a child above this RSS (%(default)s)")
    parser.add_argument("--time-limit", type=float, default=600.,
                        help="kill a child after this many seconds (%(default)s)")
    parser.add_argument("--cpu-lock", default="",
                        help="flock this file around each child (do not also wrap the command "
                             "in flock on the same file)")
    parser.add_argument("--out-dir", help="default benchmarks/results (--quick: runs/)")
    parser.add_argument("--force", action="store_true", help="remeasure every cell")
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.child:
        run_child(args)
        return
    try:
        sizes = (_parse_sizes(args.sizes) if args.sizes
                 else QUICK_SIZES if args.quick else SIZES)
    except ValueError as error:
        _fail(f"--sizes: bad size {str(error)!r} (want 'c,m,n,rows;...', positive, n <= c m)")
    contenders = [name for name in args.contenders.split(",") if name]
    unknown = [name for name in contenders if name not in CONTENDERS]
    if unknown or not contenders:
        _fail(f"--contenders: unknown {unknown} (known: {', '.join(CONTENDERS)})")
    paper = [name for name in contenders if name in PAPER_CONTENDERS]
    if paper and not args.paper_code:
        _fail(f"--paper-code DIR is required for {', '.join(paper)} (the folder holding the "
              "paper's mvhg/ package)")
    if paper and not all(os.path.isfile(os.path.join(args.paper_code, "mvhg", file))
                         for file in ("tf_fmvhg.py", "pt_fmvhg.py")):
        _fail(f"--paper-code {args.paper_code}: no mvhg/tf_fmvhg.py and mvhg/pt_fmvhg.py there")
    if "paper_pt" in contenders and not args.torch_python:
        _fail("--torch-python PATH is required for paper_pt (an interpreter with torch)")
    if "paper_pt" in contenders and not (os.path.isfile(args.torch_python)
                                         and os.access(args.torch_python, os.X_OK)):
        _fail(f"--torch-python {args.torch_python}: not an executable file")
    if args.repeats < 1 or args.threads < 1:
        _fail("--repeats and --threads must be at least 1")

    out_dir = args.out_dir or os.path.join(ROOT, "runs" if args.quick else
                                           os.path.join("benchmarks", "results"))
    stem = "side_by_side_quick" if args.quick else "side_by_side"
    json_path, md_path = (os.path.join(out_dir, f"{stem}.{ext}") for ext in ("json", "md"))
    os.makedirs(out_dir, exist_ok=True)
    report = dict(cells={}, runs=[])
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as handle:
            report = json.load(handle)
    paper_sha = _fingerprint(args.paper_code) if paper else None
    if paper:
        report["paper_code"] = dict(path=os.path.abspath(args.paper_code), sha256=paper_sha,
                                    git_commit=_git_commit(args.paper_code))
    report.setdefault("paper_code", None)
    report.update(
        benchmark=__doc__.splitlines()[0], machine=_machine_info(),
        project=dict(path=ROOT, commit=_git_commit(ROOT)),
        driver_python=dict(executable=sys.executable, version=platform.python_version()),
        torch_python=args.torch_python if "paper_pt" in contenders else
        report.get("torch_python"))
    command = " ".join([os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(ROOT)
                        else sys.executable, os.path.relpath(os.path.abspath(__file__), ROOT)]
                       + (argv if argv is not None else sys.argv[1:]))
    run = dict(started=datetime.datetime.now().isoformat(timespec="seconds"), command=command,
               settings=dict(vars(args), sizes=[list(size) for size in sizes],
                             contenders=contenders),
               load_average_start=os.getloadavg())
    report["runs"].append(run)

    def save():
        report["versions"] = {cell["contender"]: cell["versions"]
                              for cell in report["cells"].values() if "versions" in cell}
        _write_atomic(json_path, json.dumps(report, indent=2) + "\n")
        _write_atomic(md_path, _markdown(report, args))

    jobs = [(size, name) for size in sizes for name in contenders]
    for number, (size, name) in enumerate(jobs, 1):
        settings = _cell_settings(args, name, paper_sha)
        prefix = f"[{number}/{len(jobs)}] {size} {name}:"
        if not args.force and _is_done(report["cells"].get(_key(size, name)), settings, args):
            print(f"{prefix} done before, skipped", file=sys.stderr, flush=True)
            continue
        cell = _measure(args, name, size)
        cell.update(settings=settings, project_commit=report["project"]["commit"])
        report["cells"][_key(size, name)] = cell
        save()
        if cell["status"] == "ok":
            outcome = (f"median {cell['median_rows_per_s']:,.0f} rows/s (best "
                       f"{cell['best_rows_per_s']:,.0f}), peak {cell['peak_rss_mib']:,.0f} MiB, "
                       f"rows sum != n {cell['fraction_rows_sum_not_n']:.1%}")
        else:
            outcome = _status_text(cell) + (
                f": {cell['error'].strip().splitlines()[-1]}" if "error" in cell else "")
        print(f"{prefix} {outcome} (wall {cell['wall_s']:.0f} s, lock wait "
              f"{cell['lock_wait_s']:.0f} s)", file=sys.stderr, flush=True)
    run.update(finished=datetime.datetime.now().isoformat(timespec="seconds"),
               load_average_end=os.getloadavg())
    save()
    with open(md_path, encoding="utf-8") as handle:
        print(handle.read())
    print(f"written: {json_path}, {md_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
