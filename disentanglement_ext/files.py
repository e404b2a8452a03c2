# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Output files that a kill cannot leave half written, and the fault-injection test hook.

`atomic_write` writes a temporary file next to the target (`PATH.tmp`) and renames it over the
target (`os.replace`), so a reader sees the old file or the whole new one; a kill leaves at most a
stale `PATH.tmp`, which the next write of PATH replaces. `read_json` treats a file that does not
parse (truncated by an older, non-atomic writer) as missing. Importing this module does not import
TensorFlow.
"""

import json
import os
import signal

FAULT_INJECTION = "MVHG_FAULT_INJECTION"


def fault_point(name):
    """Test hook: kills this process with SIGKILL if `$MVHG_FAULT_INJECTION` equals `name`.

    Kill points: the weak-training runner's `checkpoint` (the first checkpoint after training
    resumed or began) and its stage names before each stage's marker (`weak_training.STAGES_DIR`);
    the clustering runner's `pretrain` (before the pretraining cache is written) and `train`;
    and `write NAME` halfway through writing file NAME (`atomic_write`, both runners)."""
    if os.environ.get(FAULT_INJECTION) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def atomic_write(path, data):
    """Writes `data` (str as UTF-8, or bytes) to `path` through `path + ".tmp"` and a rename."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path + ".tmp"
    with open(temporary, "wb") as handle:
        handle.write(data[:len(data) // 2])
        handle.flush()
        fault_point("write " + os.path.basename(path))
        handle.write(data[len(data) // 2:])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def atomic_write_json(path, value):
    """`atomic_write` of `value` as indented JSON."""
    atomic_write(path, json.dumps(value, indent=2) + "\n")


def read_json(path):
    """The JSON value in `path`; None if the file is missing or does not parse."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
