"""Group-by on integer code columns without Python loops.

Every "which rows form one equivalence class" question in the engine reduces to
grouping rows by a few small-integer columns.  We fold the columns into one int64
key (mixed radix), re-densifying when the radix product would overflow, and let
pandas' hash factorisation assign group ids in O(n).  Group ids are in order of
first appearance, which keeps every result deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_KEY_LIMIT = 1 << 62


def combine_keys(columns: Sequence[np.ndarray], cardinalities: Sequence[int]) -> np.ndarray:
    """One int64 key per row such that equal keys ⇔ equal tuples across ``columns``."""
    if not columns:
        raise ValueError("combine_keys needs at least one column")
    key = np.asarray(columns[0], dtype=np.int64)
    span = int(cardinalities[0])
    for col, card in zip(columns[1:], cardinalities[1:], strict=True):
        card = int(card)
        if span * card >= _KEY_LIMIT:
            key, uniques = pd.factorize(key)
            key = key.astype(np.int64)
            span = len(uniques)
        key = key * card + np.asarray(col, dtype=np.int64)
        span *= card
    return key


def factorize(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense group ids (0..g-1, order of first appearance) and the number of groups."""
    ids, uniques = pd.factorize(key, sort=False)
    return ids.astype(np.int64, copy=False), len(uniques)


def first_index(ids: np.ndarray, n_groups: int) -> np.ndarray:
    """For each group, the index of its first row (a representative)."""
    first = np.empty(n_groups, dtype=np.int64)
    positions = np.arange(len(ids), dtype=np.int64)
    first[ids[::-1]] = positions[::-1]
    return first


def group_sums(ids: np.ndarray, n_groups: int, weights: np.ndarray | None) -> np.ndarray:
    """Per-group sum of ``weights`` (row counts when ``weights`` is None), as int64."""
    if weights is None:
        return np.bincount(ids, minlength=n_groups).astype(np.int64)
    return np.bincount(ids, weights=weights, minlength=n_groups).astype(np.int64)
