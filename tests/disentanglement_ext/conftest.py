"""disentanglement_ext tests need disentanglement_lib (the `.venv` stack); skip them elsewhere."""
import importlib.util

collect_ignore_glob = []
if any(importlib.util.find_spec(name) is None for name in ("disentanglement_lib", "gin")):
    collect_ignore_glob = ["test_*.py"]
