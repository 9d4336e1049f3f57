"""RFC 9162 (RFC 6962) Merkle tree hashing, proofs and proof verification.

The audit log is tamper-evident because every checkpoint commits to a Merkle
Tree Hash (MTH) over all entries so far, and because anyone holding two
checkpoints can check that the later tree *extends* the earlier one
(consistency) and that a given entry is *in* a tree (inclusion). This module
is the arithmetic for that and nothing else: no database, no I/O, stdlib
``hashlib`` only, so an auditor can read it against the RFC in one sitting.

Why RFC 9162 and not a home-made hash chain: its domain separation (``0x00``
leaf, ``0x01`` node) stops second-preimage tricks, its proofs are O(log n), and
Certificate Transparency and transparency-dev/merkle share its test vectors.

Verification follows the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms in the
"decomposed" form used by transparency-dev/merkle: the expected proof length is
computed from the index and sizes *before* any hashing, so a proof that is too
long, too short or padded with garbage is rejected with a precise message
instead of by a root mismatch that hides the cause.

Every hash that takes part in a computation must be 32 bytes; equal non-zero
sizes only compare the two roots, as transparency-dev/merkle does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "roots_at_sizes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 digest; every hash in a tree or proof has this length."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""MTH({}) = SHA-256() — the root of the tree with no leaves (RFC 9162 §2.1.1)."""

# How many leaves roots_at_sizes / CompactRange.extend materialise at once: big
# enough that the level-by-level hashing runs in list comprehensions, small
# enough (about 3 MiB of pointers and hashes) to keep memory flat for any log.
_CHUNK = 1 << 16


class ProofError(ValueError):
    """A proof did not verify: wrong shape, wrong hash length or wrong root.

    A ``ValueError`` so callers that treat "bad input" uniformly keep working;
    the message says which check failed, because "the audit log does not
    verify" is only actionable when you know whether the proof was truncated,
    the sizes were wrong or a hash differs.
    """


# --------------------------------------------------------------------------
# Hashing
# --------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Hash of one log entry: SHA-256(0x00 || data) (RFC 9162 §2.1.1).

    The 0x00 prefix separates leaves from interior nodes, so no interior
    node's 64-byte preimage can be presented as a leaf.
    """
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_leaf_hashes(leaf_hashes: Sequence[bytes]) -> None:
    """Refuse non-32-byte leaf hashes when *building* trees.

    The common mistake is passing raw entries instead of ``leaf_hash(entry)``;
    that would silently produce a root nobody else can reproduce.
    """
    for i, h in enumerate(leaf_hashes):
        if len(h) != HASH_SIZE:
            raise ValueError(
                f"leaf hash #{i} is {len(h)} bytes, expected {HASH_SIZE}"
                " (pass leaf_hash(entry), not the entry)"
            )


def _pair_up(level: list[bytes]) -> list[bytes]:
    """Hash an even-length list of sibling nodes pairwise into their parents."""
    sha, prefix = _sha256, _NODE_PREFIX
    it = iter(level)
    return [sha(prefix + a + b).digest() for a, b in zip(it, it, strict=True)]


# --------------------------------------------------------------------------
# Compact range: the right frontier of a growing tree
# --------------------------------------------------------------------------


class CompactRange:
    """Right frontier of a growing tree: O(log n) state so appends never re-read old leaves.

    A tree of ``size`` leaves decomposes into one perfect subtree per set bit
    of ``size`` (largest, leftmost first). Their roots are all that is needed
    to compute the tree's MTH and to keep appending, so the audit log can
    persist ``(size, hashes)`` with each checkpoint and resume from it instead
    of re-hashing millions of entries.
    """

    __slots__ = ("_hashes", "size")

    size: int

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Restore a range from saved state (``size`` and ``hashes``).

        The number of hashes must equal the number of set bits of ``size``;
        anything else is corrupt state and is refused rather than repaired.
        """
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        want = size.bit_count()
        if len(hashes) != want:
            raise ValueError(f"a compact range of size {size} has {want} hashes, got {len(hashes)}")
        for i, h in enumerate(hashes):
            if len(h) != HASH_SIZE:
                raise ValueError(f"hash #{i} is {len(h)} bytes, expected {HASH_SIZE}")
        self.size = size
        self._hashes: list[bytes] = [bytes(h) for h in hashes]

    def __repr__(self) -> str:
        return f"CompactRange(size={self.size}, root={self.root().hex()})"

    @property
    def hashes(self) -> list[bytes]:
        """The state to persist: one hash per set bit of size, largest subtree first."""
        return list(self._hashes)

    def copy(self) -> CompactRange:
        """An independent range with the same state (appending to one leaves the other)."""
        clone = CompactRange.__new__(CompactRange)
        clone.size = self.size
        clone._hashes = list(self._hashes)
        return clone

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash: merge it with every complete subtree it closes."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, expected {HASH_SIZE}")
        stack, h, size = self._hashes, leaf_hash, self.size
        sha, prefix = _sha256, _NODE_PREFIX
        while size & 1:
            h = sha(prefix + stack.pop() + h).digest()
            size >>= 1
        stack.append(h)
        self.size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes, hashing level by level in bulk.

        Equivalent to calling :meth:`append` for each, but processes chunks a
        whole tree level at a time (one list comprehension per level), which is
        what makes a million-entry ``audit verify`` take about a second.
        """
        it = iter(leaf_hashes)
        while True:
            chunk = list(islice(it, _CHUNK))
            if not chunk:
                return
            _check_leaf_hashes(chunk)
            self._extend_chunk(chunk)

    def _extend_chunk(self, level: list[bytes]) -> None:
        # ``pos`` is the index, within its level, of the first node in ``level``.
        # When it is odd, that node's left sibling is the frontier subtree of the
        # same height (the last element of the stack); when ``level`` has an odd
        # number of nodes after that, the last one has no right sibling yet and
        # becomes part of the new frontier.
        stack = self._hashes
        new_size = self.size + len(level)
        pos = self.size
        leftovers: list[bytes] = []
        while level:
            if pos & 1:
                level.insert(0, stack.pop())
                pos -= 1
            if len(level) & 1:
                leftovers.append(level.pop())
            level = _pair_up(level)
            pos >>= 1
        stack.extend(reversed(leftovers))
        self.size = new_size

    def root(self) -> bytes:
        """MTH of the leaves so far: fold the frontier from the smallest subtree up.

        With k the largest power of two below n, MTH(D[n]) =
        H(MTH(D[0:k]) || MTH(D[k:n])); the frontier's first hash is MTH(D[0:k])
        and the rest is the same decomposition of the remaining n - k leaves,
        so a right fold gives the RFC's root.
        """
        if not self._hashes:
            return EMPTY_ROOT
        sha, prefix = _sha256, _NODE_PREFIX
        hashes = self._hashes
        r = hashes[-1]
        for h in reversed(hashes[:-1]):
            r = sha(prefix + h + r).digest()
        return r


# --------------------------------------------------------------------------
# Tree hashes and proof generation
# --------------------------------------------------------------------------


def _largest_power_of_two_below(n: int) -> int:
    """k such that k < n <= 2k (RFC 9162 §2.1.1 split point), for n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(leaf_hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) without copying the whole sequence more than once per chunk."""
    if hi == lo:
        return EMPTY_ROOT
    cr = CompactRange()
    for start in range(lo, hi, _CHUNK):
        cr._extend_chunk(list(leaf_hashes[start : min(start + _CHUNK, hi)]))
    return cr.root()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) per RFC 9162 §2.1.1 for the given leaf hashes; empty -> EMPTY_ROOT."""
    _check_leaf_hashes(leaf_hashes)
    return _subtree_root(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) per RFC 9162 §2.1.3.1, for the tree of all ``leaf_hashes``.

    Hashes are ordered from the leaf's sibling up to the root's child, which
    is the order :func:`verify_inclusion` consumes them in.
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} out of range for a tree of size {n}")
    _check_leaf_hashes(leaf_hashes)
    path: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk down from the root; siblings are collected top-down, then reversed.
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if m < k:
            path.append(_subtree_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_subtree_root(leaf_hashes, lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[size2]) per RFC 9162 §2.1.4.1, over the first ``size2`` leaves.

    ``size1 == size2`` gives the empty proof (what :func:`verify_consistency`
    expects). ``size1 == 0`` is refused: the RFC defines no proof from the
    empty tree, there is nothing to prove.
    """
    if size1 <= 0:
        raise ValueError(
            f"size1 must be > 0 (no consistency proof from an empty tree), got {size1}"
        )
    if size1 > size2:
        raise ValueError(f"size1 ({size1}) > size2 ({size2})")
    if size2 > len(leaf_hashes):
        raise ValueError(f"size2 ({size2}) exceeds the {len(leaf_hashes)} leaves given")
    _check_leaf_hashes(leaf_hashes[:size2])
    proof: list[bytes] = []
    # SUBPROOF(m, D[lo:hi], b), unrolled: every step appends one sibling hash.
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        k = _largest_power_of_two_below(hi - lo)
        if m <= k:
            proof.append(_subtree_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_subtree_root(leaf_hashes, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        # m == n with b false: the old tree's last subtree is itself in the proof.
        proof.append(_subtree_root(leaf_hashes, lo, hi))
    proof.reverse()
    return proof


def roots_at_sizes(
    leaf_hashes: Iterable[bytes], sizes: Iterable[int]
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(size, MTH(D[size]))`` for each requested size, reading the leaves once.

    ``sizes`` must be non-decreasing (a repeated size is yielded again). Only
    as many leaves as the largest size needs are consumed, in bounded chunks,
    so ``audit verify`` can stream a million entries from the database and
    compare the root at every checkpoint without holding the log in memory.
    Raises ``ValueError`` (lazily, when reached) for a size that goes
    backwards or exceeds the leaves available.
    """
    leaves = iter(leaf_hashes)
    cr = CompactRange()
    for size in sizes:
        if size < 0:
            raise ValueError(f"tree size must be >= 0, got {size}")
        if size < cr.size:
            raise ValueError(f"sizes must be non-decreasing: {size} after {cr.size}")
        while cr.size < size:
            chunk = list(islice(leaves, min(size - cr.size, _CHUNK)))
            if not chunk:
                raise ValueError(f"size {size} requested but only {cr.size} leaves were given")
            _check_leaf_hashes(chunk)
            cr._extend_chunk(chunk)
        yield size, cr.root()


# --------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2 and §2.1.4.2)
# --------------------------------------------------------------------------


def _decompose(index: int, size: int) -> tuple[int, int]:
    """Split an inclusion proof for ``index`` in a tree of ``size`` into (inner, border).

    ``inner`` hashes lie below the point where the paths to ``index`` and to
    the last leaf ``size - 1`` diverge (the leaf may be a left or a right child
    there); ``border`` hashes lie on the tree's right border, where the path
    always comes from the right, so they are all left siblings. Their sum is
    the only valid proof length.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        _check_hash(h, f"proof[{i}]")


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``leaf_index`` of the tree of ``tree_size`` with ``root``.

    Returns ``None`` on success; raises :class:`ProofError` saying why otherwise.
    """
    if leaf_index < 0 or tree_size < 0:
        raise ProofError(f"negative leaf index or tree size ({leaf_index}, {tree_size})")
    if leaf_index >= tree_size:
        raise ProofError(f"leaf index {leaf_index} is beyond tree size {tree_size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    inner, border = _decompose(leaf_index, tree_size)
    if len(proof) != inner + border:
        raise ProofError(
            f"wrong inclusion proof length {len(proof)} for leaf {leaf_index} "
            f"of {tree_size}, expected {inner + border}"
        )
    _check_proof_hashes(proof)
    sha, prefix = _sha256, _NODE_PREFIX
    r = leaf_hash
    for i in range(inner):
        if (leaf_index >> i) & 1:
            r = sha(prefix + proof[i] + r).digest()
        else:
            r = sha(prefix + r + proof[i]).digest()
    for h in proof[inner:]:
        r = sha(prefix + h + r).digest()
    if r != root:
        raise ProofError(
            f"inclusion proof for leaf {leaf_index} of {tree_size} gives root "
            f"{r.hex()}, expected {root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``size2``/``root2`` extends the tree of ``size1``/``root1``.

    Returns ``None`` on success; raises :class:`ProofError` saying why otherwise.

    Edge cases, as transparency-dev/merkle and its vectors have them:

    * ``size1 > size2`` fails (a log cannot shrink).
    * ``size1 == size2`` needs an empty proof and ``root1 == root2``.
    * ``size1 == 0``: every tree extends the empty one, so the check passes
      only with an empty proof; we additionally insist that ``root1`` is
      :data:`EMPTY_ROOT` and ``root2`` is a 32-byte hash, so garbage is never
      "verified". (Upstream since 2024 rejects ``size1 == 0`` outright; our
      audit log starts from the empty tree, and an empty proof proves nothing
      false.)
    * otherwise the proof must have exactly the length the sizes imply, every
      element 32 bytes, and must reproduce *both* roots.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"negative tree size ({size1}, {size2})")
    if size1 > size2:
        raise ProofError(f"size1 ({size1}) > size2 ({size2}): a log cannot shrink")
    if size1 == size2:
        if proof:
            raise ProofError(f"size1 == size2 ({size1}) but the proof has {len(proof)} hashes")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError("root of the empty tree must be SHA-256 of the empty string")
        if root1 != root2:
            raise ProofError(f"size1 == size2 ({size1}) but the roots differ")
        return
    if size1 == 0:
        if proof:
            raise ProofError(
                f"consistency from the empty tree takes an empty proof, got {len(proof)} hashes"
            )
        if root1 != EMPTY_ROOT:
            raise ProofError("root of the empty tree must be SHA-256 of the empty string")
        _check_hash(root2, "root2")
        return
    if not proof:
        raise ProofError(f"empty consistency proof for {size1} -> {size2}")
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")

    # The proof is (optionally) the root of the largest perfect subtree that
    # ends at size1, followed by the inclusion path of that subtree in the
    # tree of size2. If size1 is itself a power of two, that subtree is the
    # whole old tree and its root is root1, so it is left out of the proof.
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # trailing zero bits of size1
    inner -= shift
    if size1 == 1 << shift:
        seed, start = root1, 0
    else:
        seed, start = proof[0], 1
    if len(proof) != start + inner + border:
        raise ProofError(
            f"wrong consistency proof length {len(proof)} for {size1} -> {size2}, "
            f"expected {start + inner + border}"
        )
    _check_proof_hashes(proof)
    path = proof[start:]
    mask = (size1 - 1) >> shift

    sha, prefix = _sha256, _NODE_PREFIX
    # Old root: only left siblings belong to the tree of size1.
    h1 = seed
    for i in range(inner):
        if (mask >> i) & 1:
            h1 = sha(prefix + path[i] + h1).digest()
    for h in path[inner:]:
        h1 = sha(prefix + h + h1).digest()
    if h1 != root1:
        raise ProofError(
            f"consistency proof {size1} -> {size2} gives old root {h1.hex()}, "
            f"expected {root1.hex()}"
        )
    # New root: every sibling, on the side the path says.
    h2 = seed
    for i in range(inner):
        if (mask >> i) & 1:
            h2 = sha(prefix + path[i] + h2).digest()
        else:
            h2 = sha(prefix + h2 + path[i]).digest()
    for h in path[inner:]:
        h2 = sha(prefix + h + h2).digest()
    if h2 != root2:
        raise ProofError(
            f"consistency proof {size1} -> {size2} gives new root {h2.hex()}, "
            f"expected {root2.hex()}"
        )
