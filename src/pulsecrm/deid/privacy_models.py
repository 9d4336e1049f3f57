"""Privacy models: which equivalence classes of a candidate release are acceptable.

Every model answers one vectorised question — "for each equivalence class, does
it satisfy me?" — over a :class:`ClassView` (class sizes plus, per sensitive
attribute, the (class, value, count) cells).  Classes that fail any model are
suppressed; a transformation is acceptable when the suppressed rows stay within
the suppression limit.  This is ARX's semantics, so results are comparable.

Monotonicity (what lets the lattice search prune) is declared per model:

* ``monotonic_with_generalization`` — merging two acceptable classes gives an
  acceptable class.  True for all models here: k-anonymity and distinct
  l-diversity trivially, entropy l-diversity because the entropy of a mixture is
  at least the smaller entropy, recursive (c,l) by Machanavajjhala et al. 2007,
  and both t-closeness variants because EMD is convex in the class distribution.
* ``monotonic_with_suppression`` — with record suppression the number of
  suppressed rows never grows under generalisation.  This needs "merging an
  acceptable class with *any* class gives an acceptable class": true for
  k-anonymity (sizes add) and distinct l-diversity (distinct values only grow),
  false for the entropy, recursive and t-closeness models (a failing class can
  drag a passing one below the threshold).  The search only uses predictive
  tagging when every model is monotonic in the applicable sense, and otherwise
  evaluates nodes exactly, so results are optimal either way.

These flags are the ones ARX 3.x declares (``DistinctLDiversity``: monotonic
with suppression and generalisation; ``EntropyLDiversity``,
``RecursiveCLDiversity`` and ``TCloseness``: with generalisation only), so ARX
does not treat l-diversity or t-closeness as monotonic under suppression either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pulsecrm.deid.hierarchy import Hierarchy, HierarchyError

_EPS = 1e-9


@dataclass(frozen=True)
class SensitiveCells:
    """Distribution of one sensitive attribute inside each equivalence class.

    ``class_ids``/``codes``/``counts`` list each (class, value) pair present once.
    ``global_counts`` is the distribution over the whole input table, the
    reference for t-closeness (ARX uses the full data set, suppressed rows
    included).  ``labels`` gives the original value of each code.
    """

    class_ids: np.ndarray
    codes: np.ndarray
    counts: np.ndarray
    labels: np.ndarray
    global_counts: np.ndarray


@dataclass(frozen=True)
class ClassView:
    """Equivalence classes of one candidate release, as the models see them."""

    sizes: np.ndarray
    sensitive: Mapping[str, SensitiveCells] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.sizes)

    def cells(self, attribute: str) -> SensitiveCells:
        try:
            return self.sensitive[attribute]
        except KeyError as exc:
            raise KeyError(f"sensitive attribute {attribute!r} was not encoded") from exc


class PrivacyModel(ABC):
    """One privacy requirement, checked class by class."""

    name: str = "model"
    monotonic_with_generalization: bool = True
    monotonic_with_suppression: bool = False

    @property
    def sensitive_attribute(self) -> str | None:
        """The sensitive column this model reads, if any."""
        return None

    @property
    def minimal_class_size(self) -> int:
        """Smallest class that can possibly pass (used to reject impossible configs early)."""
        return 1

    @abstractmethod
    def class_ok(self, view: ClassView) -> np.ndarray:
        """Boolean per class: True where the class satisfies this model."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Parameters for reports and audit logs."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "model")
        return f"{type(self).__name__}({params})"


def _positive_int(value: float, what: str, model: str) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{model}: {what} must be a positive integer, got {value!r}")
    return int(value)


class KAnonymity(PrivacyModel):
    """Every released class holds at least ``k`` records."""

    name = "k-anonymity"
    monotonic_with_suppression = True

    def __init__(self, k: int) -> None:
        self.k = _positive_int(k, "k", self.name)

    @property
    def minimal_class_size(self) -> int:
        return self.k

    def class_ok(self, view: ClassView) -> np.ndarray:
        return np.asarray(view.sizes >= self.k)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "k": self.k}


class _SensitiveModel(PrivacyModel):
    def __init__(self, attribute: str) -> None:
        if not attribute:
            raise ValueError(f"{self.name}: sensitive attribute name is empty")
        self.attribute = attribute

    @property
    def sensitive_attribute(self) -> str | None:
        return self.attribute


class DistinctLDiversity(_SensitiveModel):
    """Every class holds at least ``l`` distinct values of the sensitive attribute."""

    name = "distinct-l-diversity"
    monotonic_with_suppression = True

    def __init__(self, attribute: str, l: int) -> None:  # noqa: E741 (the literature's name)
        super().__init__(attribute)
        self.l = _positive_int(l, "l", self.name)

    @property
    def minimal_class_size(self) -> int:
        return self.l

    def class_ok(self, view: ClassView) -> np.ndarray:
        cells = view.cells(self.attribute)
        distinct = np.bincount(cells.class_ids, minlength=view.n_classes)
        return np.asarray(distinct >= self.l)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "attribute": self.attribute, "l": self.l}


def class_entropy(view: ClassView, attribute: str) -> np.ndarray:
    """Shannon entropy (natural log) of the sensitive distribution in each class."""
    cells = view.cells(attribute)
    counts = cells.counts.astype(np.float64)
    sizes = view.sizes.astype(np.float64)
    weighted = np.bincount(cells.class_ids, weights=counts * np.log(counts), minlength=len(sizes))
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.log(sizes) - weighted / sizes
    return np.where(sizes > 0, entropy, 0.0)


class EntropyLDiversity(_SensitiveModel):
    """Entropy of the sensitive values in every class is at least ``log(l)``."""

    name = "entropy-l-diversity"

    def __init__(self, attribute: str, l: float) -> None:  # noqa: E741
        super().__init__(attribute)
        if not l >= 1:
            raise ValueError(f"{self.name}: l must be >= 1, got {l!r}")
        self.l = float(l)

    @property
    def minimal_class_size(self) -> int:
        return int(np.ceil(self.l))

    def class_ok(self, view: ClassView) -> np.ndarray:
        return np.asarray(class_entropy(view, self.attribute) >= np.log(self.l) - _EPS)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "attribute": self.attribute, "l": self.l}


def sorted_class_frequencies(view: ClassView, attribute: str) -> tuple[np.ndarray, np.ndarray]:
    """Cells ordered by class then descending count, with each cell's rank in its class."""
    cells = view.cells(attribute)
    order = np.lexsort((-cells.counts, cells.class_ids))
    class_ids = cells.class_ids[order]
    counts = cells.counts[order]
    starts = np.searchsorted(class_ids, np.arange(view.n_classes))
    rank = np.arange(len(class_ids)) - starts[class_ids]
    return class_ids, np.stack([counts, rank])


class RecursiveCLDiversity(_SensitiveModel):
    """Recursive (c,l): the most frequent value occurs less than ``c`` × (r_l + … + r_m)."""

    name = "recursive-(c,l)-diversity"

    def __init__(self, attribute: str, c: float, l: int) -> None:  # noqa: E741
        super().__init__(attribute)
        if not c > 0:
            raise ValueError(f"{self.name}: c must be positive, got {c!r}")
        self.c = float(c)
        self.l = _positive_int(l, "l", self.name)

    @property
    def minimal_class_size(self) -> int:
        return self.l

    def class_ok(self, view: ClassView) -> np.ndarray:
        class_ids, (counts, rank) = sorted_class_frequencies(view, self.attribute)
        n = view.n_classes
        top = np.bincount(class_ids[rank == 0], weights=counts[rank == 0], minlength=n)
        tail_mask = rank >= self.l - 1
        tail = np.bincount(class_ids[tail_mask], weights=counts[tail_mask], minlength=n)
        return np.asarray(top < self.c * tail)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "attribute": self.attribute, "c": self.c, "l": self.l}


def class_distribution_matrix(view: ClassView, attribute: str) -> np.ndarray:
    """Dense (classes × values) matrix of p_class(value) − q(value)."""
    cells = view.cells(attribute)
    n_values = len(cells.global_counts)
    total = float(cells.global_counts.sum())
    q = cells.global_counts / total
    flat = np.bincount(
        cells.class_ids * n_values + cells.codes,
        weights=cells.counts / view.sizes[cells.class_ids],
        minlength=view.n_classes * n_values,
    )
    return flat.reshape(view.n_classes, n_values) - q[np.newaxis, :]


def equal_distance_emd(view: ClassView, attribute: str) -> np.ndarray:
    """Earth mover's distance with all values at distance 1 (= total variation)."""
    cells = view.cells(attribute)
    q = cells.global_counts / float(cells.global_counts.sum())
    p = cells.counts / view.sizes[cells.class_ids]
    qc = q[cells.codes]
    present = np.bincount(cells.class_ids, weights=np.abs(p - qc) - qc, minlength=view.n_classes)
    return 0.5 * (present + 1.0)


class EqualDistanceTCloseness(_SensitiveModel):
    """Each class's sensitive distribution is within EMD ``t`` of the global one.

    Ground distance: every pair of distinct values is at distance 1, so the EMD is
    the total variation distance.
    """

    name = "equal-distance-t-closeness"

    def __init__(self, attribute: str, t: float) -> None:
        super().__init__(attribute)
        if not 0 <= t <= 1:
            raise ValueError(f"{self.name}: t must be in [0, 1], got {t!r}")
        self.t = float(t)

    def class_ok(self, view: ClassView) -> np.ndarray:
        return np.asarray(equal_distance_emd(view, self.attribute) <= self.t + _EPS)

    def describe(self) -> dict[str, Any]:
        return {"model": self.name, "attribute": self.attribute, "t": self.t}


class HierarchicalDistanceTCloseness(_SensitiveModel):
    """t-closeness with the hierarchical ground distance of Li, Li & Venkatasubramanian (2007).

    Moving probability mass between two values costs the height of their lowest
    common ancestor divided by the hierarchy height, so "gastritis ↔ gastric
    ulcer" is cheaper than "gastritis ↔ flu".
    """

    name = "hierarchical-distance-t-closeness"

    def __init__(self, attribute: str, t: float, hierarchy: Hierarchy) -> None:
        super().__init__(attribute)
        if not 0 <= t <= 1:
            raise ValueError(f"{self.name}: t must be in [0, 1], got {t!r}")
        if hierarchy.levels < 2:
            raise HierarchyError(f"{self.name}: hierarchy {hierarchy.name!r} has no levels")
        if not hierarchy.is_functional:
            raise HierarchyError(f"{self.name}: hierarchy {hierarchy.name!r} is not a tree")
        self.t = float(t)
        self.hierarchy = hierarchy

    def emd(self, view: ClassView) -> np.ndarray:
        """Hierarchical EMD of every class from the global distribution."""
        cells = view.cells(self.attribute)
        leaf_rows = self.hierarchy.leaf_indices(cells.labels)
        codes = self.hierarchy.level_codes
        height = self.hierarchy.levels - 1
        extra = class_distribution_matrix(view, self.attribute)  # classes × sensitive codes
        child_codes = codes[0][leaf_rows]  # sensitive code -> level-0 node
        n_children = int(codes[0].max()) + 1
        extra = extra @ _indicator(child_codes, n_children)
        cost = np.zeros(view.n_classes)
        for level in range(1, height + 1):
            parent_of_child = self.hierarchy.code_map(level - 1, level)
            n_parents = int(codes[level].max()) + 1
            member = _indicator(parent_of_child, n_parents)
            positive = np.clip(extra, 0, None) @ member
            negative = np.clip(-extra, 0, None) @ member
            cost += (level / height) * np.minimum(positive, negative).sum(axis=1)
            extra = positive - negative
        return cost

    def class_ok(self, view: ClassView) -> np.ndarray:
        return np.asarray(self.emd(view) <= self.t + _EPS)

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "attribute": self.attribute,
            "t": self.t,
            "hierarchy": self.hierarchy.name,
        }


def _indicator(parent: np.ndarray, n_parents: int) -> np.ndarray:
    """Dense 0/1 matrix (children × parents) with a 1 at (i, parent[i])."""
    matrix = np.zeros((len(parent), n_parents))
    matrix[np.arange(len(parent)), parent] = 1.0
    return matrix


def classes_ok(models: list[PrivacyModel], view: ClassView) -> np.ndarray:
    """Classes satisfying every model."""
    ok = np.ones(view.n_classes, dtype=bool)
    for model in models:
        ok &= model.class_ok(view)
    return ok
