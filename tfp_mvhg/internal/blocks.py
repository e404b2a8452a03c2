# Copyright 2026 The tfp-mvhg authors.
# SPDX-License-Identifier: Apache-2.0
"""Memory-bounded loops over the x values of a class step: C values at a time.

A class step sums over x = 0..W-1 terms that are `[K, B]` each (or `[K, c, B]` for the covariance
sweep); all at once they would be `[K, W, B]`. `chunks` picks the block size C, with C times the
elements per x at most `CHUNK_ELEMENTS` = 2^22, and `chunk_loop` runs the blocks one after the
other, threading the running sums.
"""

import tensorflow as tf

__all__ = ["CHUNK_ELEMENTS", "chunk_loop", "chunks", "static_or_dynamic"]

CHUNK_ELEMENTS = 1 << 22


def static_or_dynamic(dim, tensor, axis):
    """`dim` if it is known (a Python int), else `tf.shape(tensor)[axis]`."""
    return dim if dim is not None else tf.shape(tensor)[axis]


def chunks(window, elements_per_x):
    """(chunk C, number of chunks): C of the W x-values per block, so that a block holds
    C * `elements_per_x` <= `CHUNK_ELEMENTS` elements (C >= 1); Python ints when both sizes are."""
    if isinstance(window, int) and isinstance(elements_per_x, int):
        chunk = max(1, min(window, CHUNK_ELEMENTS // max(elements_per_x, 1)))
        return chunk, -(-window // chunk)
    chunk = tf.clip_by_value(CHUNK_ELEMENTS // tf.maximum(elements_per_x, 1), 1,
                             tf.maximum(window, 1))
    return chunk, (window + chunk - 1) // chunk


def chunk_loop(body, num_chunks, initial, dtype=None):
    """Threads `initial` through `carry, block = body(i, *carry)` for i = 0..num_chunks-1; returns
    `(carry, the blocks concatenated on axis 0)`; `dtype`: the blocks' (default: `initial[0]`'s).

    One block: plain ops. Else a while loop running one iteration at a time (unrolled blocks, or
    parallel iterations, would all be in memory at once in a graph), with the blocks in a
    TensorArray.
    """
    if isinstance(num_chunks, int) and num_chunks == 1:
        carry, block = body(0, *initial)
        return tuple(carry), block

    def loop_body(i, blocks, *carry):
        carry, block = body(i, *carry)
        return (i + 1, blocks.write(i, block)) + tuple(carry)

    blocks = tf.TensorArray(dtype or initial[0].dtype, size=num_chunks, infer_shape=True)
    _, blocks, *carry = tf.while_loop(lambda i, *_: i < num_chunks, loop_body,
                                      (tf.constant(0), blocks) + tuple(initial),
                                      maximum_iterations=num_chunks, parallel_iterations=1)
    stacked = blocks.stack()
    return tuple(carry), tf.reshape(stacked, tf.concat([[-1], tf.shape(stacked)[2:]], 0))
