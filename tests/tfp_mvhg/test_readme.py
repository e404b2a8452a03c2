"""The README's usage example runs as written."""

import os
import re

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_readme_python_example_runs():
    with open(README, encoding="utf-8") as readme:
        blocks = re.findall(r"```python\n(.*?)```", readme.read(), flags=re.S)
    assert blocks, "README has no python example"
    namespace = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # pylint: disable=exec-used
    assert abs(float(namespace["mean"][0]) - 36.8689) < 1e-3
    assert namespace["grad"].shape == (3,)
