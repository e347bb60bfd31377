# pragma version 0.4.3
# pragma evm-version shanghai
"""
@title RuleRegistry
@notice Anchors the hash of each version of a conversion-rule set: its owner (a receiving
        institution) publishes it, the operator approves it, and a learner can later prove
        which rule version decided their case.
"""


interface IssuerRegistry:
    def operator() -> address: view
    def issuerOfAccount(account: address) -> bytes32: view


struct RuleSetVersion:
    ownerId: bytes32
    contentHash: bytes32
    publishedBlock: uint256
    approvedBlock: uint256


event RuleSetPublished:
    ruleSetId: indexed(bytes32)
    version: indexed(uint32)
    ownerId: indexed(bytes32)
    contentHash: bytes32

event RuleSetApproved:
    ruleSetId: indexed(bytes32)
    version: indexed(uint32)
    contentHash: bytes32


registry: public(immutable(IssuerRegistry))
ownerOf: public(HashMap[bytes32, bytes32])
latestVersion: public(HashMap[bytes32, uint32])
versions: HashMap[bytes32, HashMap[uint32, RuleSetVersion]]


@deploy
def __init__(issuerRegistry: address):
    registry = IssuerRegistry(issuerRegistry)


@external
def publish(ruleSetId: bytes32, version: uint32, contentHash: bytes32):
    """@notice The owning institution publishes the next version of a rule set."""
    ownerId: bytes32 = staticcall registry.issuerOfAccount(msg.sender)
    assert ownerId != empty(bytes32), "caller is not an institution account"
    assert contentHash != empty(bytes32), "empty content hash"
    if self.ownerOf[ruleSetId] == empty(bytes32):
        self.ownerOf[ruleSetId] = ownerId
    assert self.ownerOf[ruleSetId] == ownerId, "rule set belongs to another institution"
    assert version == self.latestVersion[ruleSetId] + 1, "version must follow the latest"
    self.latestVersion[ruleSetId] = version
    self.versions[ruleSetId][version] = RuleSetVersion(
        ownerId=ownerId, contentHash=contentHash, publishedBlock=block.number, approvedBlock=0
    )
    log RuleSetPublished(ruleSetId=ruleSetId, version=version, ownerId=ownerId, contentHash=contentHash)


@external
def approve(ruleSetId: bytes32, version: uint32):
    """@notice The operator approves a published version for use."""
    assert msg.sender == staticcall registry.operator(), "caller is not the operator"
    entry: RuleSetVersion = self.versions[ruleSetId][version]
    assert entry.publishedBlock != 0, "version not published"
    assert entry.approvedBlock == 0, "version already approved"
    self.versions[ruleSetId][version].approvedBlock = block.number
    log RuleSetApproved(ruleSetId=ruleSetId, version=version, contentHash=entry.contentHash)


@external
@view
def ruleSet(ruleSetId: bytes32, version: uint32) -> RuleSetVersion:
    """@notice One version of a rule set (all zero if unpublished)."""
    return self.versions[ruleSetId][version]
