# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Gin configuration of the weak runs: the shipped gin files and errors that say what to change.

The gin files are package data (`disentanglement_ext/gin_configs/`) and are found by short name:
`find_gin_file("hg.gin")` or `find_gin_file("hg")`. Importing this module does not import TensorFlow
or gin.
"""

import difflib
import inspect
import os
import re

GIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gin_configs")

WEAK_INSTALL_HINT = (
    "the weak-supervision tools need the [weak] stack (TF 2.15.1, TFP 0.23, gin-config 0.5 and "
    "disentanglement-lib 1.5 without its dependencies): pip install -r requirements/main.txt "
    "&& pip install --no-deps disentanglement-lib==1.5 tfp-mvhg (README, Install).")

# disentanglement_lib names of its weak trainer that have a differently named counterpart here.
RENAMED = {
    "dynamics.k": "model.num_shared: disentanglement_lib's `dynamics.k` is the number k of factors "
                  "that change within a pair; here `model.num_shared` is the number s the two "
                  "views share, s = F - k for F ground-truth factors (F = 7 for mpi3d_toy), and "
                  "-1 means random per pair in both",
}


class ConfigError(ValueError):
    """A configuration a run cannot start with; the message says what to change."""


def available():
    """The short names of the shipped gin files, sorted."""
    return sorted(name for name in os.listdir(GIN_DIR) if name.endswith(".gin"))


def find_gin_file(name):
    """The path of gin file `name`: an existing path as given, else a shipped file by short name.

    Raises:
      ConfigError: naming where it looked and the shipped files.
    """
    if os.path.isfile(name):
        return name
    short = name if name.endswith(".gin") else name + ".gin"
    shipped = os.path.join(GIN_DIR, short)
    if os.path.basename(short) == short and os.path.isfile(shipped):
        return shipped
    raise ConfigError(
        f"gin file {name!r} not found: it is neither a file (from {os.getcwd()}) nor a shipped "
        f"config in {GIN_DIR}. Shipped configs (pass the short name): {', '.join(available())}.")


def _parameters(configurable):
    """The parameter names gin may bind for a registered configurable."""
    function = configurable.wrapped
    function = function.__init__ if inspect.isclass(function) else function
    names = [name for name in inspect.signature(function).parameters if name != "self"]
    if configurable.allowlist:
        names = [name for name in names if name in configurable.allowlist]
    return [name for name in names if name not in (configurable.denylist or ())]


def explain_gin_error(error):
    """The message of gin's ValueError for an unknown configurable or parameter, with the binding
    meant (`RENAMED`, else the closest registered names) appended; other messages unchanged."""
    from gin import config  # pylint: disable=import-outside-toplevel
    message = str(error)
    unknown_configurable = re.match(r"No configurable matching '([^']+)'", message)
    unknown_parameter = re.match(
        r"Configurable '([^']+)' doesn't have a parameter named '([^']+)'", message)
    if not (unknown_configurable or unknown_parameter):
        return message
    key = message.strip().splitlines()[-1].split("=")[0].strip()
    if key in RENAMED:
        return f"{message}\nUse {RENAMED[key]}."
    registry = dict(config._REGISTRY.items())  # pylint: disable=protected-access  (no public list)
    if unknown_parameter:
        name, parameter = unknown_parameter.groups()
        configurable = next((c for c in registry.values() if c.name == name.split("/")[-1]), None)
        candidates = _parameters(configurable) if configurable else []
        close = ([p for p in candidates if p.startswith(parameter)]
                 or difflib.get_close_matches(parameter, candidates, n=3, cutoff=0.6))
        close = [f"{name}.{p}" for p in close]
    else:
        names = sorted({c.name for c in registry.values()})
        close = [f"{match}.{key.split('.', 1)[-1]}" for match in
                 difflib.get_close_matches(unknown_configurable.group(1), names, n=3, cutoff=0.6)]
    hint = f"Did you mean {' or '.join(close)}?" if close else "No similar gin name is registered."
    return f"{message}\n{hint}"


def without_gin_context(message):
    """`message` without the "In call to configurable ..." lines gin appends to errors raised
    inside configurables."""
    return str(message).split("\n  In call to configurable")[0]


def explain_gin_syntax_error(error, where):
    """One line for gin's SyntaxError (or tokenize.TokenError) in `where` (a gin file or a
    binding), saying what a binding looks like."""
    if isinstance(error, SyntaxError):
        line = f", line {error.lineno}" if where.startswith("gin file") and error.lineno else ""
        text = f" in {error.text.strip()!r}" if line and error.text else ""
        message = f"{where}{line}: {error.msg.rstrip('.')}{text}"
    else:
        message = f"{where}: {error.args[0]} (an unclosed bracket or quote)"
    return (message + ". A binding is 'configurable.parameter = value' with a Python literal or "
            "@reference as the value.")
