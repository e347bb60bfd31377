"""A web3.py provider that talks to an in-process `EmbeddedNode` through its JSON-RPC dispatch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web3._utils.batching import sort_batch_response_by_response_ids
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

if TYPE_CHECKING:
    from ledger.node import EmbeddedNode


class EmbeddedProvider(JSONBaseProvider):
    """`Web3(EmbeddedProvider(node))`: the same JSON bytes as over HTTP, without a socket."""

    def __init__(self, node: EmbeddedNode, *, admin_token: str | None = None) -> None:
        super().__init__()
        self.node = node
        self.admin_token = admin_token

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Encode, answer in the node, decode."""
        body = self.encode_rpc_request(method, params)
        return self.decode_rpc_response(self.node.handle(body, admin_token=self.admin_token))

    def make_batch_request(
        self, requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        """Answer a batch in one node call, responses in request order."""
        body = self.encode_batch_rpc_request(requests)
        responses = self.decode_rpc_response(self.node.handle(body, admin_token=self.admin_token))
        if not isinstance(responses, list):
            return responses
        return sort_batch_response_by_response_ids(responses)
