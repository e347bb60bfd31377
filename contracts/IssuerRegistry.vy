# pragma version 0.4.3
# pragma evm-version shanghai
# pragma optimize codesize
"""
@title IssuerRegistry
@notice The bank operator accredits issuers (DID, chain accounts, scope, validity window),
        suspends and reinstates them; issuers register and retire their Ed25519 signing keys.
@dev An issuer id is keccak256 of its DID. A signing key is the raw 32-byte Ed25519 public key.
     A key validates what was anchored in [registeredBlock, retiredBlock); retiredBlock 0 = active.
     Each issuer also gets a number (1, 2, ...) at its first accreditation. The registry keeps the
     bound CredentialAnchor's copy of every account's anchoring rights current, one word an
     account (issuer number << 192 | validFrom << 128 | validUntil << 64 | suspended), so that
     anchoring reads one storage word and makes no call; the anchor contract answers canAnchor.
     Optimised for size: deploying it stays under half the embedded node's call gas cap.
"""

MAX_ACCOUNTS: constant(uint256) = 8
MAX_ISSUER_ACCOUNTS: constant(uint256) = 16


struct Issuer:
    did: String[128]
    kindMask: uint256
    levelMask: uint256
    validFrom: uint64
    validUntil: uint64
    suspended: bool
    accredited: bool


struct SigningKey:
    registeredBlock: uint256
    retiredBlock: uint256


interface CredentialAnchor:
    def setRights(account: address, rights: uint256): nonpayable


event OperatorTransferStarted:
    operator: indexed(address)
    pendingOperator: indexed(address)

event OperatorTransferred:
    previousOperator: indexed(address)
    operator: indexed(address)

event Accredited:
    issuerId: indexed(bytes32)
    did: String[128]
    kindMask: uint256
    levelMask: uint256
    validFrom: uint64
    validUntil: uint64

event Suspended:
    issuerId: indexed(bytes32)
    reason: uint16

event Reinstated:
    issuerId: indexed(bytes32)

event AccountAdded:
    issuerId: indexed(bytes32)
    account: indexed(address)

event AccountRemoved:
    issuerId: indexed(bytes32)
    account: indexed(address)

event KeyRegistered:
    issuerId: indexed(bytes32)
    publicKey: indexed(bytes32)

event KeyRetired:
    issuerId: indexed(bytes32)
    publicKey: indexed(bytes32)
    retiredBlock: uint256


operator: public(address)
pendingOperator: public(address)
issuerCount: public(uint256)
anchorContract: public(address)
issuerOfAccount: public(HashMap[address, bytes32])
issuerNumber: public(HashMap[bytes32, uint256])
issuerIdByNumber: public(HashMap[uint256, bytes32])
issuers: HashMap[bytes32, Issuer]
accountsOf: HashMap[bytes32, DynArray[address, MAX_ISSUER_ACCOUNTS]]
keys: HashMap[bytes32, HashMap[bytes32, SigningKey]]


@deploy
def __init__():
    self.operator = msg.sender
    log OperatorTransferred(previousOperator=empty(address), operator=msg.sender)


@internal
@view
def _onlyOperator():
    assert msg.sender == self.operator, "caller is not the operator"


@internal
@view
def _rights(issuerId: bytes32) -> uint256:
    """The anchoring rights word of every account of an issuer (see the module's @dev)."""
    return (
        (self.issuerNumber[issuerId] << 192)
        | (convert(self.issuers[issuerId].validFrom, uint256) << 128)
        | (convert(self.issuers[issuerId].validUntil, uint256) << 64)
        | convert(self.issuers[issuerId].suspended, uint256)
    )


@internal
def _setRights(account: address, rights: uint256):
    extcall CredentialAnchor(self.anchorContract).setRights(account, rights)


@internal
def _publishRights(issuerId: bytes32):
    """Copy an issuer's rights to the anchor contract for each of its accounts."""
    rights: uint256 = self._rights(issuerId)
    for account: address in self.accountsOf[issuerId]:
        self._setRights(account, rights)


@internal
def _addAccount(issuerId: bytes32, account: address):
    assert account != empty(address), "empty account"
    assert self.issuerOfAccount[account] == empty(bytes32), "account belongs to an issuer"
    assert len(self.accountsOf[issuerId]) < MAX_ISSUER_ACCOUNTS, "issuer has too many accounts"
    self.issuerOfAccount[account] = issuerId
    self.accountsOf[issuerId].append(account)
    log AccountAdded(issuerId=issuerId, account=account)


@internal
def _retire(issuerId: bytes32, publicKey: bytes32, retiredBlock: uint256):
    key: SigningKey = self.keys[issuerId][publicKey]
    assert key.registeredBlock != 0, "key not registered"
    cutoff: uint256 = retiredBlock
    if cutoff == 0:
        cutoff = block.number
    assert cutoff >= key.registeredBlock, "cut-off before registration"
    assert cutoff <= block.number, "cut-off in the future"
    assert key.retiredBlock == 0 or cutoff < key.retiredBlock, "key already retired earlier"
    self.keys[issuerId][publicKey].retiredBlock = cutoff
    log KeyRetired(issuerId=issuerId, publicKey=publicKey, retiredBlock=cutoff)


@external
def bindAnchor(anchorContract: address):
    """@notice Bind the CredentialAnchor whose copy of anchoring rights this registry keeps; once,
            before the first accreditation. A CredentialAnchor of another registry refuses the
            copies, so every accreditation would revert."""
    self._onlyOperator()
    assert self.anchorContract == empty(address), "anchor contract already bound"
    assert self.issuerCount == 0, "issuers accredited before binding"
    self.anchorContract = anchorContract


@external
def transferOperator(pendingOperator: address):
    """@notice Start handing governance to another account; it must accept."""
    self._onlyOperator()
    self.pendingOperator = pendingOperator
    log OperatorTransferStarted(operator=msg.sender, pendingOperator=pendingOperator)


@external
def acceptOperator():
    """@notice The pending operator accepts governance."""
    assert msg.sender == self.pendingOperator, "caller is not the pending operator"
    previous: address = self.operator
    self.operator = msg.sender
    self.pendingOperator = empty(address)
    log OperatorTransferred(previousOperator=previous, operator=msg.sender)


@external
def accredit(
    did: String[128],
    accounts: DynArray[address, MAX_ACCOUNTS],
    kindMask: uint256,
    levelMask: uint256,
    validFrom: uint64,
    validUntil: uint64,
) -> bytes32:
    """@notice Accredit a new issuer, or change an existing issuer's scope and window."""
    self._onlyOperator()
    assert self.anchorContract != empty(address), "no anchor contract bound"
    assert len(did) > 0, "empty DID"
    assert kindMask != 0, "empty scope"
    assert validUntil == 0 or validUntil > validFrom, "window ends before it starts"
    issuerId: bytes32 = keccak256(did)
    issuer: Issuer = self.issuers[issuerId]
    if not issuer.accredited:
        self.issuerCount += 1
        self.issuerNumber[issuerId] = self.issuerCount
        self.issuerIdByNumber[self.issuerCount] = issuerId
    self.issuers[issuerId] = Issuer(
        did=did,
        kindMask=kindMask,
        levelMask=levelMask,
        validFrom=validFrom,
        validUntil=validUntil,
        suspended=issuer.suspended,
        accredited=True,
    )
    for account: address in accounts:
        self._addAccount(issuerId, account)
    self._publishRights(issuerId)
    log Accredited(
        issuerId=issuerId,
        did=did,
        kindMask=kindMask,
        levelMask=levelMask,
        validFrom=validFrom,
        validUntil=validUntil,
    )
    return issuerId


@external
def addAccount(issuerId: bytes32, account: address):
    """@notice Give an accredited issuer another chain account."""
    self._onlyOperator()
    assert self.issuers[issuerId].accredited, "unknown issuer"
    self._addAccount(issuerId, account)
    self._setRights(account, self._rights(issuerId))


@external
def removeAccount(account: address):
    """@notice Take a chain account away from its issuer."""
    self._onlyOperator()
    issuerId: bytes32 = self.issuerOfAccount[account]
    assert issuerId != empty(bytes32), "account belongs to no issuer"
    self.issuerOfAccount[account] = empty(bytes32)
    last: uint256 = len(self.accountsOf[issuerId]) - 1
    for index: uint256 in range(last + 1, bound=MAX_ISSUER_ACCOUNTS):
        if self.accountsOf[issuerId][index] == account:
            self.accountsOf[issuerId][index] = self.accountsOf[issuerId][last]
            self.accountsOf[issuerId].pop()
            break
    self._setRights(account, 0)
    log AccountRemoved(issuerId=issuerId, account=account)


@external
def suspend(issuerId: bytes32, reason: uint16):
    """@notice Put an issuer on hold: it cannot anchor, and its credentials do not verify."""
    self._onlyOperator()
    assert self.issuers[issuerId].accredited, "unknown issuer"
    assert not self.issuers[issuerId].suspended, "issuer already suspended"
    self.issuers[issuerId].suspended = True
    self._publishRights(issuerId)
    log Suspended(issuerId=issuerId, reason=reason)


@external
def reinstate(issuerId: bytes32):
    """@notice Lift an issuer's suspension."""
    self._onlyOperator()
    assert self.issuers[issuerId].suspended, "issuer is not suspended"
    self.issuers[issuerId].suspended = False
    self._publishRights(issuerId)
    log Reinstated(issuerId=issuerId)


@external
def registerKey(publicKey: bytes32):
    """@notice The calling issuer registers a signing key, valid from this block."""
    issuerId: bytes32 = self.issuerOfAccount[msg.sender]
    assert issuerId != empty(bytes32), "caller is not an issuer account"
    assert not self.issuers[issuerId].suspended, "issuer is suspended"
    assert publicKey != empty(bytes32), "empty key"
    assert self.keys[issuerId][publicKey].registeredBlock == 0, "key already registered"
    self.keys[issuerId][publicKey] = SigningKey(registeredBlock=block.number, retiredBlock=0)
    log KeyRegistered(issuerId=issuerId, publicKey=publicKey)


@external
def retireKey(publicKey: bytes32, retiredBlock: uint256):
    """@notice The calling issuer retires one of its keys; 0 means now, an earlier block is a cut-off."""
    issuerId: bytes32 = self.issuerOfAccount[msg.sender]
    assert issuerId != empty(bytes32), "caller is not an issuer account"
    self._retire(issuerId, publicKey, retiredBlock)


@external
def retireIssuerKey(issuerId: bytes32, publicKey: bytes32, retiredBlock: uint256):
    """@notice The operator retires an issuer's key, e.g. from the block a compromise began."""
    self._onlyOperator()
    self._retire(issuerId, publicKey, retiredBlock)


@external
@view
def issuer(issuerId: bytes32) -> Issuer:
    """@notice An issuer's accreditation as it stands now."""
    return self.issuers[issuerId]


@external
@view
def signingKey(issuerId: bytes32, publicKey: bytes32) -> SigningKey:
    """@notice When a key was registered and retired (0 = never)."""
    return self.keys[issuerId][publicKey]
