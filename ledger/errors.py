"""Ledger errors: one root, and the only place that maps node and web3 failures onto it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import requests
from web3 import exceptions as web3_exceptions


class LedgerError(Exception):
    """Root of every ledger error; `message` is safe to show a user."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LedgerUnavailable(LedgerError, ConnectionError):
    """No configured node answered."""

    status = 503


class RPCError(LedgerError):
    """A JSON-RPC error answered by a node (or raised inside the embedded node)."""

    code: int = -32603

    def __init__(self, message: str, *, code: int | None = None, data: object = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.data = data

    def to_json(self) -> dict[str, object]:
        """The JSON-RPC `error` member for this error."""
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ParseError(RPCError, ValueError):
    """The request body is not JSON."""

    code = -32700


class InvalidRequest(RPCError, ValueError):
    """The request is JSON but not a JSON-RPC 2.0 request."""

    code = -32600


class MethodNotFound(RPCError):
    """The node does not serve that method."""

    code = -32601


class InvalidParams(RPCError, ValueError):
    """The method's parameters are missing or malformed."""

    code = -32602


class TransactionRejected(RPCError):
    """The node refused a transaction before it entered the pool (nonce, funds, gas, encoding)."""

    code = -32000


class SenderNotPermitted(RPCError, PermissionError):
    """The sender is not on the node's account allowlist (Besu's code -32007)."""

    code = -32007


class Unauthorized(RPCError, PermissionError):
    """An admin method was called without the node's admin token."""

    code = -32006


class ExecutionReverted(RPCError):
    """eth_call or eth_estimateGas reverted: code 3, the revert bytes as data (as geth answers)."""

    code = 3


class ExecutionAborted(RPCError):
    """eth_call or eth_estimateGas ran out of the node's time limit (geth: "execution aborted")."""

    code = -32000


class ChainNotFound(LedgerError, FileNotFoundError):
    """The data directory holds no chain."""


class TransactionReverted(LedgerError):
    """A call or a mined transaction reverted; `reason` is the decoded revert string if any."""

    def __init__(self, reason: str, *, tx_hash: str | None = None) -> None:
        super().__init__(f"transaction reverted: {reason}" if reason else "transaction reverted")
        self.reason = reason
        self.tx_hash = tx_hash


class TransactionTimeout(LedgerError, TimeoutError):
    """A sent transaction was not mined in the time allowed."""


class TransactionUnknown(LedgerError, LookupError):
    """The node knows nothing of that transaction hash."""


_RPC_ERRORS_BY_CODE: dict[int, type[RPCError]] = {
    cls.code: cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        TransactionRejected,
        SenderNotPermitted,
        Unauthorized,
    )
}
_REVERT_PREFIXES = ("execution reverted: ", "VM Exception while processing transaction: revert ")


def rpc_error(error: object) -> LedgerError:
    """Our exception for a JSON-RPC `error` member, whichever node sent it."""
    if not isinstance(error, dict):
        return RPCError(str(error))
    code = error.get("code")
    message = str(error.get("message", "node error"))
    if code == 3 or message.startswith(("execution reverted", "VM Exception")):
        return TransactionReverted(revert_reason(message))
    if "not authorized" in message.lower() or "not permitted" in message.lower():
        return SenderNotPermitted(message, data=error.get("data"))
    cls = _RPC_ERRORS_BY_CODE.get(code) if isinstance(code, int) else None
    if cls is None and isinstance(code, int) and -32099 <= code <= -32000:
        cls = TransactionRejected
    return (cls or RPCError)(message, code=code if isinstance(code, int) else None)


def http_error(status: int) -> LedgerError:
    """Our exception for a node's HTTP answer that carries no JSON-RPC response."""
    if status in (401, 403):
        return Unauthorized(f"the node refused the request (HTTP {status})")
    if status >= 500:
        return LedgerUnavailable(f"ledger unavailable: HTTP {status}")
    return RPCError(f"the node answered HTTP {status} without a JSON-RPC response")


def revert_reason(message: str) -> str:
    """The revert string inside a node's revert message ('' when there is none)."""
    stripped = True
    while stripped:
        stripped = False
        for prefix in _REVERT_PREFIXES:
            if message.startswith(prefix):
                message, stripped = message[len(prefix) :].strip(), True
    return "" if message.strip() in ("execution reverted", "revert") else message


@contextmanager
def translated() -> Iterator[None]:
    """Turn any web3, HTTP or node failure inside the block into our own exception."""
    try:
        yield
    except LedgerError:
        raise
    except web3_exceptions.ContractLogicError as exc:
        raise TransactionReverted(revert_reason(str(exc.message or ""))) from exc
    except web3_exceptions.TransactionNotFound as exc:
        raise TransactionUnknown(str(exc)) from exc
    except web3_exceptions.Web3RPCError as exc:
        response = exc.rpc_response or {}
        raise rpc_error(response.get("error", {"message": exc.message})) from exc
    except web3_exceptions.TimeExhausted as exc:
        raise TransactionTimeout(str(exc)) from exc
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
        raise LedgerUnavailable(f"ledger unreachable: {exc.__class__.__name__}") from exc
    except requests.HTTPError as exc:
        raise http_error(exc.response.status_code if exc.response is not None else 500) from exc
    except web3_exceptions.ProviderConnectionError as exc:
        raise LedgerUnavailable(f"ledger unreachable: {exc}") from exc
