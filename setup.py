"""Package metadata for tfp-mvhg."""
from setuptools import find_packages, setup

setup(
    name="tfp-mvhg",
    version="0.1.0",
    description=("Differentiable multivariate Fisher noncentral hypergeometric distribution "
                 "for TensorFlow Probability"),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tfp_mvhg", "tfp_mvhg.*",
                                    "disentanglement_ext", "disentanglement_ext.*"]),
    python_requires=">=3.10",
    install_requires=["numpy", "tensorflow>=2.15", "tensorflow-probability>=0.23"],
    extras_require={
        "test": ["pytest", "scipy"],
        "weak": ["disentanglement-lib==1.5", "gin-config==0.5.0", "tensorflow-hub==0.15.0"],
    },
    license="Apache-2.0",
)
