"""eth_call and eth_estimateGas for the embedded node: off the sealing lock, under a gas cap and
a limit on the CPU time the call's thread spends.

A call runs on a fresh py-evm state over the committed store (what is sealed, never the
sealer's buffered writes), so it takes none of the node's locks: a slow call cannot stall
sealing or any other read. A call asking for more gas than the cap is clamped to it (as geth's
RPCGasCap); an estimate whose transaction needs more answers "gas required exceeds allowance".
Time is checked where work can repeat, the jumps and the CALL and CREATE families, and inside
precompiles, which py-evm runs in pure Python at a fraction of the speed their gas prices
assume (BLAKE2 F and the BN254 pairing run at about 0.15 Mgas/s): a trace hook checks the
deadline at every Python call they make. A call out of time is abandoned with its state, which
nothing else shares. One JSON-RPC body, a batch included, shares one time limit. The limit counts
the thread's own CPU time (`time.thread_time`): it bounds the work a request makes, while a busy
machine, or other threads holding the GIL, only make it wait (a call of 0.05 s of CPU took 0.4 s
on a loaded 2-core machine, and 3 s beside two busy threads), never abort an honest call. Full
garbage collections are left out of that time: one runs in whichever thread allocates when it is
due, and its cost is the process's whole heap, not the call's work (0.6 s of CPU for a heap of
9 million objects here).
"""

from __future__ import annotations

import gc
import math
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any, cast

import eth_abi
from eth.abc import (
    BlockHeaderAPI,
    ChainDatabaseAPI,
    ComputationAPI,
    OpcodeAPI,
    SignedTransactionAPI,
)
from eth.consensus.context import ConsensusContext
from eth.constants import GAS_TX
from eth.exceptions import OutOfGas, Revert, VMError
from eth.vm import opcode_values
from eth.vm.chain_context import ChainContext
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.cancun.computation import CancunComputation
from eth.vm.forks.cancun.state import CancunState
from eth.vm.spoof import SpoofTransaction
from eth_utils import ValidationError

from infra.settings import Settings
from ledger.errors import ExecutionAborted, ExecutionReverted, RPCError
from ledger.messages import CallMessage

ERROR_SELECTOR = bytes.fromhex("08c379a0")
CALL_STIPEND = 2_300
ESTIMATE_TOLERANCE = 1_000
YIELD_SECONDS = 0.001
REPEATING_OPCODES = frozenset(
    {
        opcode_values.JUMP,
        opcode_values.JUMPI,
        opcode_values.CALL,
        opcode_values.CALLCODE,
        opcode_values.DELEGATECALL,
        opcode_values.STATICCALL,
        opcode_values.CREATE,
        opcode_values.CREATE2,
    }
)


@dataclass(frozen=True)
class CallLimits:
    """The gas cap and the CPU-time limit of eth_call and eth_estimateGas."""

    gas_cap: int = Settings.call_gas_cap
    seconds: float = Settings.call_seconds

    def __post_init__(self) -> None:
        if self.gas_cap < GAS_TX:
            raise ValueError(f"CREDITBANK_CALL_GAS_CAP: at least {GAS_TX} (got {self.gas_cap})")
        if not 0 < self.seconds < math.inf:
            raise ValueError(f"CREDITBANK_CALL_SECONDS: a positive number (got {self.seconds})")

    @classmethod
    def of(cls, settings: Settings) -> CallLimits:
        """The limits the settings name."""
        return cls(gas_cap=settings.call_gas_cap, seconds=settings.call_seconds)


DEFAULT_CALL_LIMITS = CallLimits()


class OutOfTime(Exception):
    """Raised inside a computation past its deadline (not a VMError: py-evm must not catch it)."""


class _FullCollections(threading.local):
    """The CPU time this thread spent in full garbage collections."""

    spent = 0.0
    started = 0.0


_full_collections = _FullCollections()


def _count_full_collection(phase: str, info: dict[str, int]) -> None:
    """Add the CPU time of each full collection to the thread that ran it."""
    if info["generation"] != 2:
        return
    if phase == "start":
        _full_collections.started = time.thread_time()
    else:
        _full_collections.spent += time.thread_time() - _full_collections.started


gc.callbacks.append(_count_full_collection)


def work_time() -> float:
    """The calling thread's CPU time, less the full garbage collections it ran (seconds)."""
    return time.thread_time() - _full_collections.spent


def _check_deadline(state: CallState) -> None:
    """Raise `OutOfTime` past the call's deadline (its thread's `work_time`); every millisecond
    of it, let other threads run."""
    now = work_time()
    if now > state.deadline:
        raise OutOfTime
    if now > state.next_yield:
        time.sleep(0)
        state.next_yield = now + YIELD_SECONDS


class _Watched:
    """An opcode that checks the call's deadline before it runs."""

    def __init__(self, opcode: OpcodeAPI) -> None:
        self.opcode = opcode
        self.mnemonic = opcode.mnemonic

    def __call__(self, computation: ComputationAPI) -> None:
        _check_deadline(cast(CallState, computation.state))
        self.opcode(computation=computation)


Precompile = Callable[[ComputationAPI], ComputationAPI]


def _traced(precompile: Precompile) -> Precompile:
    """A precompile that checks the call's deadline at every Python call it makes."""

    def run(computation: ComputationAPI) -> ComputationAPI:
        state = cast(CallState, computation.state)

        def trace(frame: FrameType, event: str, arg: Any) -> None:
            _check_deadline(state)

        previous = sys.gettrace()
        sys.settrace(trace)
        try:
            return precompile(computation)
        finally:
            sys.settrace(previous)

    return run


CallComputation = CancunComputation.configure(
    __name__="CallComputation",
    opcodes={
        value: cast(OpcodeAPI, _Watched(opcode)) if value in REPEATING_OPCODES else opcode
        for value, opcode in CancunComputation.opcodes.items()
    },
    _precompiles={
        address: _traced(precompile)
        for address, precompile in CancunComputation.get_precompiles().items()
    },
)
"""Cancun's computation, checking the deadline where work can repeat."""


class CallState(CancunState):
    """Cancun's state for one call, carrying its deadline."""

    computation_class = CallComputation
    deadline = math.inf
    next_yield = 0.0


class CallVM(CancunVM):
    """The Cancun VM that runs calls on a `CallState`."""

    _state_class = CallState


@dataclass
class _Budget:
    deadline: float | None = None


_budget: ContextVar[_Budget | None] = ContextVar("call_budget", default=None)


class CallRunner:
    """eth_call and eth_estimateGas over the committed chain, within `limits`."""

    def __init__(
        self, chaindb: ChainDatabaseAPI, chain_context: ChainContext, limits: CallLimits
    ) -> None:
        self.chaindb = chaindb
        self.chain_context = chain_context
        self.limits = limits
        self._consensus = ConsensusContext(chaindb.db)

    @contextmanager
    def shared_budget(self) -> Iterator[None]:
        """Within the block, every call and estimate shares one time limit, from the first."""
        token = _budget.set(_Budget())
        try:
            yield
        finally:
            _budget.reset(token)

    def call(self, message: CallMessage, header: BlockHeaderAPI) -> bytes:
        """The output of a message run on top of `header`, its gas clamped to the cap."""
        gas = self._ceiling(message, header)
        with self._state(header) as state:
            computation = self._run(state, self._spoof(message, state, gas))
        if computation.is_error:
            raise _call_error(computation.error)
        return computation.output

    def estimate_gas(self, message: CallMessage, header: BlockHeaderAPI) -> int:
        """The least gas (within 1,000) a message needs, up to the cap."""
        ceiling = self._ceiling(message, header)
        with self._state(header) as state:
            transaction = self._spoof(message, state, ceiling)

            def attempt(gas: int) -> ComputationAPI:
                snapshot = state.snapshot()
                try:
                    retry = cast(SignedTransactionAPI, SpoofTransaction(transaction, gas=gas))
                    return self._run(state, retry)
                finally:
                    state.revert(snapshot)

            lowest = transaction.intrinsic_gas
            if not attempt(lowest).is_error:
                return lowest
            first = attempt(ceiling)
            if first.is_error:
                if isinstance(first.error, OutOfGas):
                    raise RPCError(f"gas required exceeds allowance ({ceiling})", code=-32000)
                raise _call_error(first.error)
            used = lowest + first.get_gas_used()
            failing, viable = max(lowest, used - 1), ceiling
            optimistic = (used + CALL_STIPEND) * 64 // 63
            if optimistic < viable:
                if attempt(optimistic).is_error:
                    failing = optimistic
                else:
                    viable = optimistic
            while viable - failing > ESTIMATE_TOLERANCE:
                middle = (viable + failing) // 2
                if attempt(middle).is_error:
                    failing = middle
                else:
                    viable = middle
            return viable

    def _ceiling(self, message: CallMessage, header: BlockHeaderAPI) -> int:
        ceiling = min(self.limits.gas_cap, header.gas_limit)
        return ceiling if message.gas is None else min(message.gas, ceiling)

    @contextmanager
    def _state(self, header: BlockHeaderAPI) -> Iterator[CallState]:
        vm = CallVM(
            header=header,
            chaindb=self.chaindb,
            chain_context=self.chain_context,
            consensus_context=self._consensus,
        )
        with vm.in_costless_state() as state:
            call_state = cast(CallState, state)
            call_state.deadline = self._deadline()
            call_state.next_yield = work_time() + YIELD_SECONDS
            yield call_state

    def _deadline(self) -> float:
        budget = _budget.get()
        if budget is None:
            return work_time() + self.limits.seconds
        if budget.deadline is None:
            budget.deadline = work_time() + self.limits.seconds
        return budget.deadline

    def _spoof(self, message: CallMessage, state: CallState, gas: int) -> SignedTransactionAPI:
        """The message as a transaction from its sender (a proxy that py-evm runs as signed)."""
        unsigned = CallVM.create_unsigned_transaction(
            nonce=state.get_nonce(message.sender),
            gas_price=0,
            gas=gas,
            to=message.to,
            value=message.value,
            data=message.data,
        )
        if unsigned.intrinsic_gas > gas:
            raise RPCError(
                f"intrinsic gas too low: needs {unsigned.intrinsic_gas}, allowed {gas}",
                code=-32000,
            )
        return cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=message.sender))

    def _run(self, state: CallState, transaction: SignedTransactionAPI) -> ComputationAPI:
        try:
            return state.costless_execute_transaction(transaction)
        except OutOfTime:
            raise ExecutionAborted(
                f"execution aborted (timeout = {self.limits.seconds:g}s)"
            ) from None
        except VMError as error:
            raise _call_error(error) from None
        except ValidationError as error:
            raise RPCError(str(error), code=-32000) from None


def _call_error(error: VMError) -> RPCError:
    """The JSON-RPC error for a failed call: a revert with its reason, or the VM error."""
    if isinstance(error, Revert):
        return reverted(_revert_data(error))
    detail = str(error.args[0]) if error.args else ""
    name = type(error).__name__
    return RPCError(f"{name}: {detail}" if detail else name, code=-32000)


def reverted(revert_data: bytes) -> ExecutionReverted:
    """The JSON-RPC error for a reverted call, with its reason decoded when it has one."""
    reason = decode_revert(revert_data)
    message = f"execution reverted: {reason}" if reason else "execution reverted"
    return ExecutionReverted(message, data="0x" + revert_data.hex())


def decode_revert(revert_data: bytes) -> str:
    """The string of an `Error(string)` revert, or '' for any other revert data."""
    if not revert_data.startswith(ERROR_SELECTOR):
        return ""
    try:
        return eth_abi.decode(["string"], revert_data[4:])[0]
    except Exception:
        return ""


def _revert_data(error: Revert) -> bytes:
    data = error.args[0] if error.args else b""
    return data if isinstance(data, bytes) else b""
