# pragma version 0.4.3
# pragma evm-version shanghai
"""
@title CredentialAnchor
@notice Accredited issuers anchor the Merkle roots of credential batches and revoke a whole batch
        or a single credential inside one, each with a reason code.
@dev Batch shape (credentials/merkle.py): leaf = keccak256(0x00 ++ digest),
     inner = keccak256(0x01 ++ min(a, b) ++ max(a, b)); the prefixes keep leaves and inner nodes apart.
     An anchor takes two storage words: the issuer id, and a stamp packing
     sender << 96 | block number << 48 | block timestamp.
"""

MAX_DEPTH: constant(uint256) = 40
MASK_48: constant(uint256) = 2**48 - 1


interface IssuerRegistry:
    def canAnchor(account: address) -> bytes32: view
    def issuerOfAccount(account: address) -> bytes32: view


struct Anchor:
    issuerId: bytes32
    sender: address
    blockNumber: uint256
    timestamp: uint256


struct Revocation:
    reason: uint16
    blockNumber: uint256


event Anchored:
    root: indexed(bytes32)
    issuerId: indexed(bytes32)
    sender: address

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
anchorIssuer: HashMap[bytes32, bytes32]
anchorStamp: HashMap[bytes32, uint256]
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
    issuerId: bytes32 = self.anchorIssuer[root]
    assert issuerId != empty(bytes32), "root not anchored"
    assert staticcall registry.issuerOfAccount(msg.sender) == issuerId, "not the root's issuer"
    return issuerId


@internal
def _revokeLeaf(root: bytes32, digest: bytes32, reason: uint16):
    issuerId: bytes32 = self._issuerOfRoot(root)
    assert reason != 0, "reason code required"
    assert self.leafRevocations[root][digest].blockNumber == 0, "credential already revoked"
    self.leafRevocations[root][digest] = Revocation(reason=reason, blockNumber=block.number)
    log LeafRevoked(root=root, digest=digest, issuerId=issuerId, reason=reason)


@external
def anchor(root: bytes32):
    """@notice Anchor a batch root; only an accredited, unsuspended issuer account may."""
    issuerId: bytes32 = staticcall registry.canAnchor(msg.sender)
    assert issuerId != empty(bytes32), "caller is not an accredited issuer"
    assert root != empty(bytes32), "empty root"
    assert self.anchorStamp[root] == 0, "root already anchored"
    self.anchorIssuer[root] = issuerId
    self.anchorStamp[root] = (
        (convert(msg.sender, uint256) << 96) | (block.number << 48) | block.timestamp
    )
    log Anchored(root=root, issuerId=issuerId, sender=msg.sender)


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
    """@notice Who anchored a root, and in which block (all zero if never)."""
    stamp: uint256 = self.anchorStamp[root]
    return Anchor(
        issuerId=self.anchorIssuer[root],
        sender=convert(convert(stamp >> 96, uint160), address),
        blockNumber=(stamp >> 48) & MASK_48,
        timestamp=stamp & MASK_48,
    )


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
