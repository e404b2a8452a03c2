# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""An offline stand-in for mpi3d_toy, rendered on the fly with numpy (no download).

`ProceduralMPI3DToy` has mpi3d_toy's structure: 64x64x3 float images in [0, 1] and 7 discrete
factors of variation (the real mpi3d_toy has the same cardinalities)

  ==  ==================  ======  ===================================================
  #   factor              values  what it changes in the image
  ==  ==================  ======  ===================================================
  0   object_color        6       white, red, green, blue, yellow, magenta
  1   object_shape        6       circle, square, triangle, cross, ring, diamond
  2   object_size         2       small / large object
  3   camera_height       3       horizon row (44 / 32 / 20) and perspective scale of
                                  the object (1.12 / 1.0 / 0.88): low, middle, high
  4   background_color    3       wall colour (slate, brown, teal); the floor is a
                                  lighter mix of it
  5   horizontal_axis     40      object centre column, 12 .. 52 px
  6   vertical_axis       40      object centre row, 12 .. 52 px
  ==  ==================  ======  ===================================================

The scene: a wall above the horizon and a floor below it, a grey robot arm from a base below the
image to the object, and the object on top (flat colour with a little top-left lighting, one pixel
of anti-aliasing so that every one-step move of an axis changes pixels). Rendering is a pure
function of the factor vector: the same factors always give the same image, and `random_state` is
not used (it is accepted for the `GroundTruthData` interface). Every factor is decodable: changing
any single factor to any other value changes the image (tests/disentanglement_ext check every pair).

Gin: `dataset.name = "procedural_mpi3d_toy"` selects it (`DATASET_NAME`; registered by
`disentanglement_ext.registry` when `disentanglement_ext` is imported).

`save_factor_grid(path)` writes a PNG with one row per factor sweeping its values
(`disentanglement_ext/data/procedural_factors.png`):

    .venv/bin/python -m disentanglement_ext.data.procedural [path]
"""
import numpy as np

from disentanglement_ext.registry import PROCEDURAL_MPI3D_TOY as DATASET_NAME  # noqa: F401

from disentanglement_lib.data.ground_truth import ground_truth_data

FACTOR_NAMES = ("object_color", "object_shape", "object_size", "camera_height",
                "background_color", "horizontal_axis", "vertical_axis")
FACTOR_SIZES = (6, 6, 2, 3, 3, 40, 40)
SHAPE_NAMES = ("circle", "square", "triangle", "cross", "ring", "diamond")

_SIZE = 64
_OBJECT_COLORS = np.array([
    [0.95, 0.95, 0.95],  # white
    [0.90, 0.15, 0.12],  # red
    [0.15, 0.75, 0.20],  # green
    [0.20, 0.40, 0.95],  # blue
    [0.95, 0.85, 0.10],  # yellow
    [0.85, 0.20, 0.80],  # magenta
], np.float32)
_OBJECT_RADII = np.array([5.5, 9.0], np.float32)            # object_size, in pixels
_HORIZON_ROWS = np.array([44, 32, 20], np.float32)          # camera_height: low, middle, high
_CAMERA_SCALES = np.array([1.12, 1.0, 0.88], np.float32)    # perspective: higher is farther
_WALL_COLORS = np.array([
    [0.17, 0.19, 0.36],  # slate
    [0.38, 0.22, 0.12],  # brown
    [0.07, 0.33, 0.24],  # teal
], np.float32)
_FLOOR_GREY = np.array([0.66, 0.66, 0.63], np.float32)
_ARM_COLOR = np.array([0.78, 0.78, 0.82], np.float32)
_ARM_BASE = (32.0, 76.0)                                    # (x, y) below the image
_ARM_HALF_WIDTH = 0.9
_AXIS_POSITIONS = np.linspace(12., 52., 40).astype(np.float32)
_CHUNK = 256                                                # images rendered per numpy pass

# Pixel centres.
_COORDS = np.arange(_SIZE, dtype=np.float32) + 0.5


def _shape_sdf(shape, u, v):
    """Signed distance (in object radii, < 0 inside) of `shape` at normalized coordinates u, v."""
    au, av = np.abs(u), np.abs(v)
    if shape == 0:   # circle
        return np.sqrt(u * u + v * v) - 1.
    if shape == 1:   # square (half side 0.82)
        return np.maximum(au, av) - 0.82
    if shape == 2:   # triangle pointing up, centroid at the centre, circumradius 1.15
        return np.maximum(v, 0.8660254 * au - 0.5 * v) - 0.575
    if shape == 3:   # cross: union of two bars of half width 0.34
        return np.minimum(np.maximum(au - 1., av - 0.34), np.maximum(au - 0.34, av - 1.))
    if shape == 4:   # ring: radii 0.45 .. 1.0
        return np.abs(np.sqrt(u * u + v * v) - 0.725) - 0.275
    if shape == 5:   # diamond: |u| + |v| <= 1.15
        return (au + av - 1.15) * 0.70710678
    raise ValueError(f"shape index {shape} out of range")


def render(factors):
    """Images for a batch of factor vectors: a pure, deterministic function.

    Args:
      factors: int array [num, 7], factor values in [0, FACTOR_SIZES[i]) (validated by
        `ProceduralMPI3DToy.sample_observations_from_factors`, not here).

    Returns:
      float32 array [num, 64, 64, 3] in [0, 1].
    """
    factors = np.asarray(factors)
    images = np.empty((len(factors), _SIZE, _SIZE, 3), np.float32)
    for start in range(0, len(factors), _CHUNK):
        images[start:start + _CHUNK] = _render_chunk(factors[start:start + _CHUNK])
    return images


def _render_chunk(f):
    n = len(f)
    rows = _COORDS[None, :, None]                       # [1, 64, 1]
    cols = _COORDS[None, None, :]                       # [1, 1, 64]

    # Wall above the horizon, floor below; both get a little vertical shading.
    horizon = _HORIZON_ROWS[f[:, 3]][:, None]           # [n, 1]
    wall = _WALL_COLORS[f[:, 4]]                        # [n, 3]
    floor = 0.45 * wall + 0.55 * _FLOOR_GREY
    row_pos = _COORDS[None, :] / _SIZE                  # [1, 64]
    below = (_COORDS[None, :] >= horizon)[..., None]    # [n, 64, 1]
    wall_rows = wall[:, None, :] * (0.85 + 0.3 * row_pos)[..., None]
    floor_rows = floor[:, None, :] * (0.8 + 0.3 * row_pos)[..., None]
    background = np.where(below, floor_rows, wall_rows)            # [n, 64, 3]
    image = np.broadcast_to(background[:, :, None, :], (n, _SIZE, _SIZE, 3)).copy()

    # Object centre and radius (camera height scales it: perspective).
    cx = _AXIS_POSITIONS[f[:, 5]][:, None, None]        # [n, 1, 1]
    cy = _AXIS_POSITIONS[f[:, 6]][:, None, None]
    radius = (_OBJECT_RADII[f[:, 2]] * _CAMERA_SCALES[f[:, 3]])[:, None, None]

    # Robot arm: a segment from the base below the image to the object centre.
    bx, by = _ARM_BASE
    dx, dy = cx - bx, cy - by
    t = np.clip(((cols - bx) * dx + (rows - by) * dy) / (dx * dx + dy * dy), 0., 1.)
    dist = np.sqrt((cols - bx - t * dx) ** 2 + (rows - by - t * dy) ** 2)
    alpha = np.clip(_ARM_HALF_WIDTH + 0.5 - dist, 0., 1.)[..., None]
    image += alpha * (_ARM_COLOR - image)

    # Object: signed distance of its shape, one pixel of anti-aliasing, light from the top left.
    u = (cols - cx) / radius                            # [n, 64, 64]
    v = (rows - cy) / radius
    sdf = np.empty((n, _SIZE, _SIZE), np.float32)
    for shape in range(len(SHAPE_NAMES)):
        idx = np.flatnonzero(f[:, 1] == shape)
        if idx.size:
            sdf[idx] = _shape_sdf(shape, u[idx], v[idx])
    alpha = np.clip(0.5 - sdf * radius, 0., 1.)[..., None]
    light = np.clip(1. - 0.12 * (u + v), 0.78, 1.2)[..., None]
    color = np.clip(_OBJECT_COLORS[f[:, 0]][:, None, None, :] * light, 0., 1.)
    image += alpha * (color - image)
    return np.clip(image, 0., 1.)


class MPI3DToyFactors(ground_truth_data.GroundTruthData):
    """The factor side of mpi3d_toy (names, cardinalities `FACTOR_SIZES`, uniform sampling),
    shared by its offline stand-ins; subclasses give `observation_shape` and
    `sample_observations_from_factors`."""

    factor_names = FACTOR_NAMES

    @property
    def num_factors(self):
        return len(FACTOR_SIZES)

    @property
    def factors_num_values(self):
        return list(FACTOR_SIZES)

    def sample_factors(self, num, random_state):
        """Independent uniform factors: int64 [num, 7].

        Raises:
          ValueError: if `num` is not a non-negative integer.
        """
        if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
            raise ValueError(f"num must be a non-negative integer, got {num!r}.")
        return np.stack([random_state.randint(size, size=num) for size in FACTOR_SIZES],
                        axis=1).astype(np.int64)


class ProceduralMPI3DToy(MPI3DToyFactors):
    """mpi3d_toy-like ground-truth data (7 factors, 64x64x3), rendered with numpy on the fly.

    See the module docstring for the factors. Factor values are integers; observations are float32
    in [0, 1]; the same factors always render the same image (no noise, `random_state` unused in
    `sample_observations_from_factors`).
    """

    @property
    def observation_shape(self):
        return [_SIZE, _SIZE, 3]

    def sample_observations_from_factors(self, factors, random_state=None):
        """Renders `factors` (int [num, 7]) to float32 images [num, 64, 64, 3] in [0, 1].

        `random_state` is unused: rendering is deterministic.

        Raises:
          ValueError: if `factors` is not an integer array of shape [num, 7] with every column i in
            [0, factors_num_values[i]).
        """
        del random_state
        return render(validate_factors(factors))


def validate_factors(factors):
    """`factors` as an int64 array [num, 7] after checking shape, dtype and ranges.

    Raises:
      ValueError: naming `factors`, if any check fails.
    """
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[1] != len(FACTOR_SIZES):
        raise ValueError(f"factors must have shape [num, {len(FACTOR_SIZES)}], "
                         f"got {factors.shape}.")
    if factors.size and not np.issubdtype(factors.dtype, np.integer):
        if not np.all(np.equal(np.mod(factors, 1), 0)):
            raise ValueError("factors must be integers.")
    factors = factors.astype(np.int64)
    bad = (factors < 0) | (factors >= np.array(FACTOR_SIZES))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"factors[{row}, {col}] = {factors[row, col]} is out of range for "
                         f"{FACTOR_NAMES[col]} (0 .. {FACTOR_SIZES[col] - 1}).")
    return factors


def default_base_factors():
    """The factor vector that `save_factor_grid` sweeps around: a large red square in mid-frame,
    middle camera height, slate wall."""
    return np.array([1, 1, 1, 1, 0, 20, 20], np.int64)


def factor_sweep(factor, base_factors=None, num_values=None):
    """Factor vectors [k, 7] equal to `base_factors` except `factor`, which takes k values.

    Args:
      factor: int in [0, 7), the factor to sweep.
      base_factors: int [7] or None (`default_base_factors()`).
      num_values: None for all values, else the number of evenly spaced values (from the first to
        the last) to take.
    """
    if not 0 <= factor < len(FACTOR_SIZES):
        raise ValueError(f"factor must be in [0, {len(FACTOR_SIZES)}), got {factor!r}.")
    base = default_base_factors() if base_factors is None else validate_factors([base_factors])[0]
    size = FACTOR_SIZES[factor]
    values = np.arange(size) if num_values is None or num_values >= size else \
        np.unique(np.round(np.linspace(0, size - 1, num_values)).astype(np.int64))
    sweep = np.repeat(base[None], len(values), axis=0)
    sweep[:, factor] = values
    return sweep


def save_factor_grid(path, base_factors=None, max_columns=10, scale=2):
    """Saves a PNG: one row per factor, sweeping that factor's values from `base_factors`.

    Factors with more than `max_columns` values show `max_columns` evenly spaced ones (the column
    label gives the value). Each row is labelled with the factor name.

    Args:
      path: output PNG path.
      base_factors: int [7] or None (`default_base_factors()`).
      max_columns: most images per row.
      scale: integer upsampling of each 64x64 image (nearest neighbour).

    Returns:
      The saved image as a uint8 array [height, width, 3].
    """
    from PIL import Image  # pylint: disable=import-outside-toplevel
    from PIL import ImageDraw  # pylint: disable=import-outside-toplevel

    cell, pad, label_width, header = _SIZE * scale, 4, 132, 14
    width = label_width + max_columns * (cell + pad)
    height = len(FACTOR_SIZES) * (cell + pad + header) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for factor, name in enumerate(FACTOR_NAMES):
        sweep = factor_sweep(factor, base_factors, max_columns)
        images = render(sweep)
        top = pad + factor * (cell + pad + header)
        draw.text((4, top + header + cell // 2 - 12), name, fill=(0, 0, 0))
        draw.text((4, top + header + cell // 2 + 2), f"{FACTOR_SIZES[factor]} values",
                  fill=(90, 90, 90))
        for column, (values, image) in enumerate(zip(sweep, images, strict=True)):
            left = label_width + column * (cell + pad)
            label = str(values[factor])
            if factor == 1:
                label += f" {SHAPE_NAMES[values[factor]]}"
            draw.text((left + 2, top), label, fill=(60, 60, 60))
            tile = Image.fromarray(np.round(image * 255.).astype(np.uint8))
            canvas.paste(tile.resize((cell, cell), Image.NEAREST), (left, top + header))
    canvas.save(path)
    return np.asarray(canvas)


if __name__ == "__main__":
    import os
    import sys
    default_path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "procedural_factors.png")
    output = sys.argv[1] if len(sys.argv) > 1 else default_path
    save_factor_grid(output)
    print(output)
