"""The audit log's Merkle tree: RFC 9162 conformance, tamper detection, streaming roots.

Three kinds of evidence, strongest first:

* the public transparency-dev/merkle proof vectors (shared/testdata), one test
  per file, each verified or rejected exactly as its ``wantErr`` says;
* the RFC 6962 reference tree of 8 leaves used by Certificate Transparency,
  whose roots are published and whose proofs the vectors contain;
* Hypothesis properties: generated proofs verify, any flipped bit is caught,
  and the incremental (CompactRange, roots_at_sizes) paths agree with the
  from-scratch Merkle Tree Hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pulsecrm.kernel import merkle
from pulsecrm.kernel.merkle import (
    EMPTY_ROOT,
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    roots_at_sizes,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import _find_shared

# --------------------------------------------------------------------------
# transparency-dev/merkle vectors (collected at import time, one test per file)
# --------------------------------------------------------------------------

try:
    VECTOR_DIR: Path | None = _find_shared() / "testdata" / "rfc9162-merkle"
except RuntimeError:  # no shared/ folder: test_vector_corpus_is_present fails loudly
    VECTOR_DIR = None


def _vector_params(kind: str) -> list[Any]:
    if VECTOR_DIR is None:
        return []
    root = VECTOR_DIR / kind
    return [
        pytest.param(path, id=path.relative_to(root).with_suffix("").as_posix())
        for path in sorted(root.rglob("*.json"))
    ]


INCLUSION_VECTORS = _vector_params("inclusion")
CONSISTENCY_VECTORS = _vector_params("consistency")


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _load(path: Path) -> tuple[dict[str, Any], list[bytes]]:
    case = json.loads(path.read_text(encoding="utf-8"))
    return case, [_b64(h) for h in case["proof"] or []]  # "proof": null means no proof


@pytest.mark.req("H6")
def test_vector_corpus_is_present() -> None:
    """Guard against a silently empty parametrisation (missing or moved shared/)."""
    assert VECTOR_DIR is not None, "shared/ not found: set PULSECRM_SHARED_DIR"
    assert len(INCLUSION_VECTORS) == 98
    assert len(CONSISTENCY_VECTORS) == 98


@pytest.mark.req("H6")
@pytest.mark.parametrize("path", INCLUSION_VECTORS)
def test_inclusion_vector(path: Path) -> None:
    case, proof = _load(path)
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.req("H6")
@pytest.mark.parametrize("path", CONSISTENCY_VECTORS)
def test_consistency_vector(path: Path) -> None:
    case, proof = _load(path)
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof)
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --------------------------------------------------------------------------
# The RFC 6962 reference tree (certificate-transparency / transparency-dev)
# --------------------------------------------------------------------------

REFERENCE_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
REFERENCE_HASHES = [leaf_hash(d) for d in REFERENCE_LEAVES]
# MTH of the first n reference leaves, n = 1..8; the same values appear as
# roots in the vectors (e.g. inclusion/1/happy-path.json for n = 8).
REFERENCE_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def test_hash_primitives_use_rfc_domain_separation() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) == hashlib.sha256(b"\x01" + a + b).digest()
    assert node_hash(a, b) != node_hash(b, a)
    # A leaf can never be mistaken for the node built from the same 64 bytes.
    assert leaf_hash(a + b) != node_hash(a, b)
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


@pytest.mark.req("H6")
@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_reference_tree_roots(size: int) -> None:
    want = bytes.fromhex(REFERENCE_ROOTS[size])
    assert root_from_leaf_hashes(REFERENCE_HASHES[:size]) == want
    cr = CompactRange()
    cr.extend(REFERENCE_HASHES[:size])
    assert cr.root() == want


@pytest.mark.req("H6")
def test_generated_proofs_equal_the_vectors_happy_paths() -> None:
    """The happy-path vectors are proofs over the reference tree; we must emit the same bytes."""
    assert VECTOR_DIR is not None
    checked = 0
    for path in sorted(VECTOR_DIR.glob("inclusion/*/happy-path.json")):
        case, proof = _load(path)
        size, index = case["treeSize"], case["leafIdx"]
        assert REFERENCE_HASHES[index] == _b64(case["leafHash"])
        assert root_from_leaf_hashes(REFERENCE_HASHES[:size]) == _b64(case["root"])
        assert inclusion_proof(REFERENCE_HASHES[:size], index) == proof, path
        checked += 1
    for path in sorted(VECTOR_DIR.glob("consistency/*/happy-path.json")):
        case, proof = _load(path)
        size1, size2 = case["size1"], case["size2"]
        assert root_from_leaf_hashes(REFERENCE_HASHES[:size1]) == _b64(case["root1"])
        assert root_from_leaf_hashes(REFERENCE_HASHES[:size2]) == _b64(case["root2"])
        assert consistency_proof(REFERENCE_HASHES, size1, size2) == proof, path
        checked += 1
    assert checked == 10


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.req("H6")
def test_every_single_bit_flip_in_reference_proofs_is_detected() -> None:
    """Exhaustive over the 8-leaf tree: every index or size, every hash involved, every bit."""
    root = bytes.fromhex(REFERENCE_ROOTS[8])
    for index in range(8):
        proof = inclusion_proof(REFERENCE_HASHES, index)
        verify_inclusion(index, 8, REFERENCE_HASHES[index], proof, root)
        for j in range(len(proof)):
            for bit in range(256):
                bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(index, 8, REFERENCE_HASHES[index], bad, root)
        for bit in range(256):
            with pytest.raises(ProofError):
                verify_inclusion(index, 8, REFERENCE_HASHES[index], proof, _flip(root, bit))
            with pytest.raises(ProofError):
                verify_inclusion(index, 8, _flip(REFERENCE_HASHES[index], bit), proof, root)
    for size1 in range(1, 8):
        proof = consistency_proof(REFERENCE_HASHES, size1, 8)
        root1 = bytes.fromhex(REFERENCE_ROOTS[size1])
        verify_consistency(size1, 8, root1, root, proof)
        for j in range(len(proof)):
            for bit in range(256):
                bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
                with pytest.raises(ProofError):
                    verify_consistency(size1, 8, root1, root, bad)
        # Both roots are checked: the old one (even when the proof does not
        # start from it) and the new one.
        for bit in range(256):
            with pytest.raises(ProofError):
                verify_consistency(size1, 8, _flip(root1, bit), root, proof)
            with pytest.raises(ProofError):
                verify_consistency(size1, 8, root1, _flip(root, bit), proof)


# --------------------------------------------------------------------------
# Edge cases and argument checking
# --------------------------------------------------------------------------


def test_proof_error_is_a_value_error_with_a_reason() -> None:
    root = root_from_leaf_hashes(REFERENCE_HASHES)
    proof = inclusion_proof(REFERENCE_HASHES, 3)
    with pytest.raises(ValueError, match="wrong inclusion proof length 2"):
        verify_inclusion(3, 8, REFERENCE_HASHES[3], proof[:-1], root)
    with pytest.raises(ProofError, match="wrong inclusion proof length 4"):
        verify_inclusion(3, 8, REFERENCE_HASHES[3], [*proof, root], root)
    with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes"):
        verify_inclusion(3, 8, REFERENCE_HASHES[3], [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofError, match="beyond tree size"):
        verify_inclusion(8, 8, REFERENCE_HASHES[3], proof, root)
    with pytest.raises(ProofError, match="negative"):
        verify_inclusion(-1, 8, REFERENCE_HASHES[3], proof, root)
    with pytest.raises(ProofError, match="root is 31 bytes"):
        verify_inclusion(3, 8, REFERENCE_HASHES[3], proof, root[:31])
    with pytest.raises(ProofError, match="leaf hash is 0 bytes"):
        verify_inclusion(0, 1, b"", [], b"")  # vector single-entry/empty-root-and-leaf


def test_consistency_edge_cases() -> None:
    r3 = root_from_leaf_hashes(REFERENCE_HASHES[:3])
    r8 = root_from_leaf_hashes(REFERENCE_HASHES)
    # Every tree extends the empty tree, but only with an empty proof and a real root.
    verify_consistency(0, 8, EMPTY_ROOT, r8, [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(0, 8, EMPTY_ROOT, r8, [r8])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 8, r3, r8, [])
    with pytest.raises(ProofError, match="root2 is 12 bytes"):
        verify_consistency(0, 8, EMPTY_ROOT, b"don't care 2", [])
    # Equal sizes: empty proof and identical roots.
    verify_consistency(8, 8, r8, r8, [])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(8, 8, r8, r3, [])
    with pytest.raises(ProofError, match="proof has 1"):
        verify_consistency(8, 8, r8, r8, [r8])
    # Shrinking, empty and mis-sized proofs.
    with pytest.raises(ProofError, match="cannot shrink"):
        verify_consistency(8, 3, r8, r3, [])
    with pytest.raises(ProofError, match="cannot shrink"):
        verify_consistency(8, 7, r8, r3, [r8])
    with pytest.raises(ProofError, match="empty consistency proof"):
        verify_consistency(3, 8, r3, r8, [])
    proof = consistency_proof(REFERENCE_HASHES, 3, 8)
    with pytest.raises(ProofError, match="wrong consistency proof length"):
        verify_consistency(3, 8, r3, r8, [*proof, b""])
    with pytest.raises(ProofError, match="root1 is 9 bytes"):
        verify_consistency(3, 8, b"WrongRoot", r8, proof)


def test_generators_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(REFERENCE_HASHES, 8)
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="size1 must be > 0"):
        consistency_proof(REFERENCE_HASHES, 0, 8)
    with pytest.raises(ValueError, match=r"size1 \(5\) > size2 \(4\)"):
        consistency_proof(REFERENCE_HASHES, 5, 4)
    with pytest.raises(ValueError, match="exceeds"):
        consistency_proof(REFERENCE_HASHES, 5, 9)
    assert consistency_proof(REFERENCE_HASHES, 5, 5) == []
    assert inclusion_proof(REFERENCE_HASHES[:1], 0) == []
    # Raw entries instead of leaf hashes are the classic mistake: refuse them.
    with pytest.raises(ValueError, match="pass leaf_hash"):
        root_from_leaf_hashes([b"patient 42 read"])
    with pytest.raises(ValueError, match="pass leaf_hash"):
        CompactRange().extend([b"raw"])
    with pytest.raises(ValueError, match="3 bytes"):
        CompactRange().append(b"raw")


def test_compact_range_refuses_corrupt_state() -> None:
    h = REFERENCE_HASHES[0]
    with pytest.raises(ValueError, match="has 2 hashes, got 1"):
        CompactRange(3, [h])
    with pytest.raises(ValueError, match="has 0 hashes, got 1"):
        CompactRange(0, [h])
    with pytest.raises(ValueError, match=">= 0"):
        CompactRange(-1)
    with pytest.raises(ValueError, match="31 bytes"):
        CompactRange(1, [h[:31]])
    cr = CompactRange(2, [node_hash(h, h)])
    assert cr.size == 2 and cr.hashes == [node_hash(h, h)]


def test_compact_range_state_is_not_aliased() -> None:
    cr = CompactRange()
    cr.extend(REFERENCE_HASHES[:5])
    saved = cr.hashes
    saved.clear()  # mutating the returned list must not corrupt the range
    assert len(cr.hashes) == 2
    twin = cr.copy()
    twin.append(REFERENCE_HASHES[5])
    assert cr.size == 5 and twin.size == 6
    assert cr.root() == bytes.fromhex(REFERENCE_ROOTS[5])
    assert twin.root() == bytes.fromhex(REFERENCE_ROOTS[6])


def test_roots_at_sizes_argument_checks_and_laziness() -> None:
    consumed: list[int] = []

    def leaves() -> Any:
        for i, h in enumerate(REFERENCE_HASHES):
            consumed.append(i)
            yield h

    got = list(roots_at_sizes(leaves(), [0, 3, 3, 5]))
    assert got == [
        (0, EMPTY_ROOT),
        (3, bytes.fromhex(REFERENCE_ROOTS[3])),
        (3, bytes.fromhex(REFERENCE_ROOTS[3])),
        (5, bytes.fromhex(REFERENCE_ROOTS[5])),
    ]
    assert len(consumed) <= 6  # never reads far past the largest requested size
    with pytest.raises(ValueError, match="non-decreasing"):
        list(roots_at_sizes(REFERENCE_HASHES, [5, 4]))
    with pytest.raises(ValueError, match="only 8 leaves"):
        list(roots_at_sizes(REFERENCE_HASHES, [9]))
    with pytest.raises(ValueError, match=">= 0"):
        list(roots_at_sizes(REFERENCE_HASHES, [-1]))


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70).map(
    lambda entries: [leaf_hash(e) for e in entries]
)


@pytest.mark.req("H6")
@given(leaves=leaf_lists, data=st.data())
def test_inclusion_proofs_verify_and_any_bit_flip_fails(leaves: list[bytes], data: Any) -> None:
    n = len(leaves)
    root = root_from_leaf_hashes(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = inclusion_proof(leaves, index)
    verify_inclusion(index, n, leaves[index], proof, root)
    # Flip one bit of one proof element, of the root or of the leaf hash.
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    bad_proof, bad_root, bad_leaf = list(proof), root, leaves[index]
    if target < len(proof):
        bad_proof[target] = _flip(proof[target], bit)
    elif target == len(proof):
        bad_root = _flip(root, bit)
    else:
        bad_leaf = _flip(bad_leaf, bit)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, bad_leaf, bad_proof, bad_root)


@pytest.mark.req("H6")
@given(leaves=leaf_lists, data=st.data())
def test_consistency_proofs_verify_and_any_bit_flip_fails(leaves: list[bytes], data: Any) -> None:
    n = len(leaves)
    size2 = data.draw(st.integers(1, n), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    root1 = root_from_leaf_hashes(leaves[:size1])
    root2 = root_from_leaf_hashes(leaves[:size2])
    proof = consistency_proof(leaves, size1, size2)
    assert (proof == []) == (size1 == size2)
    verify_consistency(size1, size2, root1, root2, proof)
    target = data.draw(st.integers(0, len(proof) + 1), label="target")
    bit = data.draw(st.integers(0, 255), label="bit")
    bad_proof, bad1, bad2 = list(proof), root1, root2
    if target < len(proof):
        bad_proof[target] = _flip(proof[target], bit)
    elif target == len(proof):
        bad1 = _flip(root1, bit)
    else:
        bad2 = _flip(root2, bit)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, bad1, bad2, bad_proof)


@pytest.mark.req("H6")
@given(leaves=leaf_lists)
def test_compact_range_root_matches_mth_at_every_size(leaves: list[bytes]) -> None:
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    for i, h in enumerate(leaves, start=1):
        cr.append(h)
        assert cr.size == i
        assert len(cr.hashes) == bin(i).count("1")
        assert cr.root() == root_from_leaf_hashes(leaves[:i])


@pytest.mark.req("H6")
@given(leaves=leaf_lists, data=st.data(), chunk=st.sampled_from([1, 2, 3, 5, 8, 1 << 16]))
def test_compact_range_restored_from_state_continues_identically(
    leaves: list[bytes], data: Any, chunk: int
) -> None:
    split = data.draw(st.integers(0, len(leaves)), label="split")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(merkle, "_CHUNK", chunk)  # exercise chunk boundaries in bulk extend
        first = CompactRange()
        first.extend(leaves[:split])
        restored = CompactRange(first.size, first.hashes)
        restored.extend(leaves[split:])
        one_by_one = CompactRange()
        for h in leaves:
            one_by_one.append(h)
    assert restored.size == one_by_one.size == len(leaves)
    assert restored.hashes == one_by_one.hashes
    assert restored.root() == root_from_leaf_hashes(leaves)


@pytest.mark.req("H6")
@settings(max_examples=50)
@given(
    leaves=leaf_lists,
    data=st.data(),
    chunk=st.sampled_from([1, 3, 4, 1 << 16]),
)
def test_roots_at_sizes_matches_mth(leaves: list[bytes], data: Any, chunk: int) -> None:
    sizes = sorted(data.draw(st.lists(st.integers(0, len(leaves)), max_size=12), label="sizes"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(merkle, "_CHUNK", chunk)
        got = list(roots_at_sizes(iter(leaves), sizes))
    assert got == [(s, root_from_leaf_hashes(leaves[:s])) for s in sizes]
