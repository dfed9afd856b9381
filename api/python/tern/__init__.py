"""Python client for ternd, the tern control daemon (JSON-RPC 2.0 over ZeroMQ).

    from tern import Client
    c = Client()                       # tcp://127.0.0.1:9555
    print(c.version())
    ifindex = c.interface_create(0, "10.0.0.2/24")["ifindex"]

See docs/api.md for every method, its parameters and its errors.
"""
from .client import (
    Client,
    Subscriber,
    TernError,
    TernTimeout,
    DEFAULT_API,
    DEFAULT_EVENTS,
    PARSE_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    INVALID_PARAMS,
    INTERNAL_ERROR,
    NOT_FOUND,
    EXISTS,
    BUSY,
    EXHAUSTED,
    LCORE_TIMEOUT,
    IO_ERROR,
)

__version__ = "0.1.0"

__all__ = [
    "Client", "Subscriber", "TernError", "TernTimeout",
    "DEFAULT_API", "DEFAULT_EVENTS",
    "PARSE_ERROR", "INVALID_REQUEST", "METHOD_NOT_FOUND", "INVALID_PARAMS",
    "INTERNAL_ERROR", "NOT_FOUND", "EXISTS", "BUSY", "EXHAUSTED",
    "LCORE_TIMEOUT", "IO_ERROR",
]
