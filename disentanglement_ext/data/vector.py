# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""A fast weakly-supervised data set: mpi3d_toy's 7 factors rendered as a vector, not an image.

`VectorMPI3DToy` has the factors and cardinalities of `ProceduralMPI3DToy` (and of the real
mpi3d_toy): object_color 6, object_shape 6, object_size 2, camera_height 3, background_color 3,
horizontal_axis 40, vertical_axis 40. Each factor f moves the observation along its own fixed
random smooth curve g_f in R^D, and the observation is the sum over factors:

    x(v) = sum_f g_f(t_f),   t_f = v_f / (K_f - 1) in [0, 1]            x in R^D, float32
    g_f(t) = c_f (h_f(t) - mean_v h_f(t_v)),
    h_f(t) = sum_{j=1}^{J} (a_fj cos(pi j t) + b_fj sin(pi j t)) / j,   a_fj, b_fj ~ N(0, I_D)

so neighbouring values of an ordinal factor lie close together (smooth), and every curve is
centred and scaled (c_f) so that its mean squared norm over the factor's values is one:

    (1 / K_f) sum_v ||g_f(t_v)||^2 = 1.

With the Gaussian reconstruction loss of `disentanglement_ext.architectures` (scale sigma),
forgetting any one factor (decoding its mean instead) costs the same 1 / (2 sigma^2) nats per
observation, whatever its cardinality. The curves depend only on `seed` and `dimension`; the
observation is a pure function of the factors (no noise), so pair sampling, disentanglement_lib's
metrics and our evaluation run on it exactly as on images. It renders about a million
observations per second, so a training step costs what the model costs.

Gin: `dataset.name = "vector_mpi3d_toy"` (`gin_configs/vector.gin`, with an MLP encoder and
decoder), `vector_mpi3d_toy.dimension` and `vector_mpi3d_toy.seed`.
"""
import gin
import numpy as np

from disentanglement_ext.data.procedural import FACTOR_SIZES
from disentanglement_ext.data.procedural import MPI3DToyFactors
from disentanglement_ext.data.procedural import validate_factors
from disentanglement_ext.registry import VECTOR_MPI3D_TOY as DATASET_NAME  # noqa: F401

NUM_HARMONICS = 3


def factor_curves(dimension, seed, factor_sizes=FACTOR_SIZES, num_harmonics=NUM_HARMONICS):
    """The points g_f(t_v) of every factor's curve: a list of float64 arrays `[K_f, dimension]`,
    each centred and with mean squared norm 1 over its K_f values (module docstring)."""
    random_state = np.random.RandomState(seed)
    curves = []
    for size in factor_sizes:
        t = np.linspace(0., 1., size)[:, None, None]                          # [K, 1, 1]
        harmonics = np.arange(1, num_harmonics + 1)[None, :, None]           # [1, J, 1]
        cosine, sine = random_state.standard_normal((2, 1, num_harmonics, dimension))
        points = np.sum((cosine * np.cos(np.pi * harmonics * t)
                         + sine * np.sin(np.pi * harmonics * t)) / harmonics, axis=1)
        points -= points.mean(axis=0)
        curves.append(points / np.sqrt(np.mean(np.sum(points ** 2, axis=1))))
    return curves


@gin.configurable("vector_mpi3d_toy", allowlist=["dimension", "seed"])
class VectorMPI3DToy(MPI3DToyFactors):
    """mpi3d_toy's factor structure as float32 vectors `[dimension]` (module docstring).

    Args:
      dimension: D, the length of an observation (>= 2).
      seed: the seed of the random curves; the same seed and D give the same data set.

    Raises:
      ValueError: if `dimension` < 2 or `seed` is not a non-negative integer.
    """

    def __init__(self, dimension=40, seed=0):
        if isinstance(dimension, bool) or int(dimension) != dimension or dimension < 2:
            raise ValueError(f"vector_mpi3d_toy.dimension must be an integer >= 2, "
                             f"got {dimension!r}.")
        if isinstance(seed, bool) or int(seed) != seed or seed < 0:
            raise ValueError(f"vector_mpi3d_toy.seed must be an integer >= 0, got {seed!r}.")
        self.dimension, self.seed = int(dimension), int(seed)
        self._curves = [curve.astype(np.float32)
                        for curve in factor_curves(self.dimension, self.seed)]

    @property
    def observation_shape(self):
        return [self.dimension]

    def sample_observations_from_factors(self, factors, random_state=None):
        """`sum_f g_f(t_f)` for `factors` (int `[num, 7]`): float32 `[num, dimension]`.

        `random_state` is unused: observations are a deterministic function of the factors.

        Raises:
          ValueError: if `factors` is not an integer array `[num, 7]` within the factor ranges.
        """
        del random_state
        factors = validate_factors(factors)
        observations = np.zeros((len(factors), self.dimension), np.float32)
        for factor, curve in enumerate(self._curves):
            observations += curve[factors[:, factor]]
        return observations
