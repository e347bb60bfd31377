# pragma version 0.4.3
# pragma evm-version shanghai
"""
@title CredentialAnchor
@notice Accredited issuers anchor the Merkle roots of credential batches and revoke a whole batch
        or a single credential inside one, each with a reason code.
@dev Batch shape (credentials/merkle.py): leaf = keccak256(0x00 ++ digest),
     inner = keccak256(0x01 ++ min(a, b) ++ max(a, b)); the prefixes keep leaves and inner nodes apart.
     An anchor takes one storage word, issuer number << 64 | block number: what revocation checks
     and where the Anchored event (sender, block timestamp) lies. Anchoring reads one more word,
     the caller's rights, which the IssuerRegistry keeps current here (issuer number << 192 |
     validFrom << 128 | validUntil << 64 | suspended), so that it calls no other contract.
"""

MAX_DEPTH: constant(uint256) = 40
MASK_64: constant(uint256) = 2**64 - 1


interface IssuerRegistry:
    def issuerIdByNumber(number: uint256) -> bytes32: view


struct Anchor:
    issuerId: bytes32
    blockNumber: uint256


struct Revocation:
    reason: uint16
    blockNumber: uint256


event Anchored:
    root: indexed(bytes32)
    sender: address
    timestamp: uint256

event RootRevoked:
    root: indexed(bytes32)
    issuerId: indexed(bytes32)
    reason: uint16

event LeafRevoked:
    root: indexed(bytes32)
    digest: indexed(bytes32)
    issuerId: indexed(bytes32)
    reason: uint16


registry: public(immutable(IssuerRegistry))
anchorRights: public(HashMap[address, uint256])
anchors: HashMap[bytes32, uint256]
rootRevocations: HashMap[bytes32, Revocation]
leafRevocations: HashMap[bytes32, HashMap[bytes32, Revocation]]


@deploy
def __init__(issuerRegistry: address):
    registry = IssuerRegistry(issuerRegistry)


@internal
@pure
def _rootFromProof(digest: bytes32, proof: DynArray[bytes32, MAX_DEPTH]) -> bytes32:
    node: bytes32 = keccak256(concat(b"\x00", digest))
    for sibling: bytes32 in proof:
        if convert(node, uint256) <= convert(sibling, uint256):
            node = keccak256(concat(b"\x01", node, sibling))
        else:
            node = keccak256(concat(b"\x01", sibling, node))
    return node


@internal
@view
def _issuerOfRoot(root: bytes32) -> bytes32:
    number: uint256 = self.anchors[root] >> 64
    assert number != 0, "root not anchored"
    assert self.anchorRights[msg.sender] >> 192 == number, "not the root's issuer"
    return staticcall registry.issuerIdByNumber(number)


@internal
def _revokeLeaf(root: bytes32, digest: bytes32, reason: uint16):
    issuerId: bytes32 = self._issuerOfRoot(root)
    assert reason != 0, "reason code required"
    assert self.leafRevocations[root][digest].blockNumber == 0, "credential already revoked"
    self.leafRevocations[root][digest] = Revocation(reason=reason, blockNumber=block.number)
    log LeafRevoked(root=root, digest=digest, issuerId=issuerId, reason=reason)


@external
def setRights(account: address, rights: uint256):
    """@notice The registry sets an issuer account's anchoring rights word (0 = none)."""
    assert msg.sender == registry.address, "caller is not the registry"
    self.anchorRights[account] = rights


@internal
@view
def _mayAnchor(rights: uint256) -> bool:
    """Whether a rights word lets its account anchor now: an issuer's, unsuspended, in window."""
    validUntil: uint256 = (rights >> 64) & MASK_64
    return (
        rights >> 192 != 0
        and rights & 1 == 0
        and block.timestamp >= (rights >> 128) & MASK_64
        and (validUntil == 0 or block.timestamp < validUntil)
    )


@external
def anchor(root: bytes32):
    """@notice Anchor a batch root; only an accredited, unsuspended issuer account may."""
    rights: uint256 = self.anchorRights[msg.sender]
    assert self._mayAnchor(rights), "caller is not an accredited issuer"
    assert root != empty(bytes32), "empty root"
    assert self.anchors[root] == 0, "root already anchored"
    self.anchors[root] = ((rights >> 192) << 64) | block.number
    log Anchored(root=root, sender=msg.sender, timestamp=block.timestamp)


@external
def revokeRoot(root: bytes32, reason: uint16):
    """@notice Revoke a whole batch; only an account of the issuer that anchored it may."""
    issuerId: bytes32 = self._issuerOfRoot(root)
    assert reason != 0, "reason code required"
    assert self.rootRevocations[root].blockNumber == 0, "batch already revoked"
    self.rootRevocations[root] = Revocation(reason=reason, blockNumber=block.number)
    log RootRevoked(root=root, issuerId=issuerId, reason=reason)


@external
def revokeLeaf(root: bytes32, digest: bytes32, proof: DynArray[bytes32, MAX_DEPTH], reason: uint16):
    """@notice Revoke one credential, proving on chain that its digest is a leaf of the root."""
    assert self._rootFromProof(digest, proof) == root, "digest is not a leaf of the root"
    self._revokeLeaf(root, digest, reason)


@external
def revokeLeafRecord(root: bytes32, digest: bytes32, reason: uint16):
    """@notice Revoke one credential by the issuer's own record, without a Merkle proof."""
    self._revokeLeaf(root, digest, reason)


@external
@view
def anchorOf(root: bytes32) -> Anchor:
    """@notice Which issuer anchored a root, and in which block (all zero if never); the block's
            Anchored event names the sender and the time."""
    word: uint256 = self.anchors[root]
    if word == 0:
        return empty(Anchor)
    return Anchor(
        issuerId=staticcall registry.issuerIdByNumber(word >> 64), blockNumber=word & MASK_64
    )


@external
@view
def canAnchor(account: address) -> bytes32:
    """@notice The issuer id an account anchors for now, or empty if it may not anchor."""
    rights: uint256 = self.anchorRights[account]
    if not self._mayAnchor(rights):
        return empty(bytes32)
    return staticcall registry.issuerIdByNumber(rights >> 192)


@external
@view
def rootRevocation(root: bytes32) -> Revocation:
    """@notice A batch's revocation (all zero if none)."""
    return self.rootRevocations[root]


@external
@view
def leafRevocation(root: bytes32, digest: bytes32) -> Revocation:
    """@notice A single credential's revocation (all zero if none)."""
    return self.leafRevocations[root][digest]


@external
@pure
def rootFromProof(digest: bytes32, proof: DynArray[bytes32, MAX_DEPTH]) -> bytes32:
    """@notice The root a Merkle proof leads to from a credential digest."""
    return self._rootFromProof(digest, proof)
