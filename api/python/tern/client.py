"""ternd client: a DEALER socket speaking JSON-RPC 2.0 (docs/api.md), and a
SUB socket reading the stats/event stream."""
import itertools
import json

import zmq

DEFAULT_API = "tcp://127.0.0.1:9555"
DEFAULT_EVENTS = "tcp://127.0.0.1:9556"

# Error codes of docs/api.md.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
NOT_FOUND = -32000
EXISTS = -32001
BUSY = -32002
EXHAUSTED = -32003
LCORE_TIMEOUT = -32004
IO_ERROR = -32005


class TernError(Exception):
    """A JSON-RPC error answered by ternd."""

    def __init__(self, code, message, data=None):
        super().__init__("error %d: %s" % (code, message))
        self.code = code
        self.message = message
        self.data = data

    @property
    def field(self):
        """The parameter the error names (error.data.field), or None."""
        if isinstance(self.data, dict):
            return self.data.get("field")
        return None


class TernTimeout(TimeoutError):
    """ternd did not answer within the client's timeout."""

    def __init__(self, endpoint, method, timeout):
        super().__init__("no answer from ternd at %s (%s, waited %gs)"
                         % (endpoint, method, timeout))
        self.endpoint = endpoint
        self.method = method
        self.timeout = timeout


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


class Client:
    """A connection to ternd's API socket.

    `call(method, **params)` returns the result or raises TernError (an error
    answer) or TernTimeout (no answer in `timeout` seconds). The typed methods
    below wrap every method of docs/api.md; parameters left at None are not
    sent, so ternd applies its defaults.
    """

    def __init__(self, endpoint=DEFAULT_API, timeout=5.0, context=None):
        self.endpoint = endpoint
        self.timeout = timeout
        self._ctx = context or zmq.Context.instance()
        self._ids = itertools.count(1)
        self._sock = None
        self._connect()

    # -- plumbing -----------------------------------------------------------

    def _connect(self):
        if self._sock is not None:
            self._sock.close(linger=0)
        s = self._ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.LINGER, 0)
        s.connect(self.endpoint)
        self._sock = s

    def close(self):
        if self._sock is not None:
            self._sock.close(linger=0)
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, frames, timeout=None, expect_reply=True):
        """Sends raw frames (bytes) and returns the reply frames (list of
        bytes), or None when expect_reply is False. For tests of malformed
        input; raises TernTimeout when nothing comes back."""
        if self._sock is None:
            self._connect()
        if isinstance(frames, (bytes, str)):
            frames = [frames]
        frames = [f.encode() if isinstance(f, str) else f for f in frames]
        self._sock.send_multipart(frames)
        if not expect_reply:
            return None
        t = self.timeout if timeout is None else timeout
        if not self._sock.poll(int(t * 1000)):
            # A late answer would be mistaken for the next one's: start over.
            self._connect()
            raise TernTimeout(self.endpoint, "raw", t)
        return self._sock.recv_multipart()

    def request(self, obj, timeout=None):
        """Sends one JSON-RPC request object (or batch) and returns the
        decoded response (object or list), without interpreting errors."""
        t = self.timeout if timeout is None else timeout
        reply = self.send_raw(json.dumps(obj).encode(), timeout=t)
        return json.loads(reply[-1].decode())

    def call(self, method, params=None, timeout=None, **kw):
        """Calls `method` with named params; returns `result`."""
        if params is None:
            params = kw
        else:
            params = dict(params, **kw)
        rid = next(self._ids)
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params:
            req["params"] = params
        t = self.timeout if timeout is None else timeout
        if self._sock is None:
            self._connect()
        self._sock.send(json.dumps(req).encode())
        poller_ms = int(t * 1000)
        while True:
            if not self._sock.poll(poller_ms):
                self._connect()
                raise TernTimeout(self.endpoint, method, t)
            frames = self._sock.recv_multipart()
            try:
                resp = json.loads(frames[-1].decode())
            except ValueError as e:
                raise TernError(INTERNAL_ERROR,
                                "ternd answered something that is not JSON: %s" % e)
            if isinstance(resp, dict) and resp.get("id") not in (rid, None):
                continue            # a stale answer to an earlier, timed-out call
            break
        if not isinstance(resp, dict):
            raise TernError(INTERNAL_ERROR, "unexpected answer: %r" % (resp,))
        if "error" in resp and resp["error"] is not None:
            err = resp["error"]
            raise TernError(err.get("code", INTERNAL_ERROR),
                            err.get("message", ""), err.get("data"))
        return resp.get("result")

    def notify(self, method, **params):
        """Sends a notification (no id): ternd sends no answer."""
        req = {"jsonrpc": "2.0", "method": method}
        if params:
            req["params"] = params
        self.send_raw(json.dumps(req).encode(), expect_reply=False)

    # -- system ---------------------------------------------------------------

    def version(self):
        return self.call("system.version")

    def shutdown(self):
        return self.call("system.shutdown")

    # -- ports and interfaces -------------------------------------------------

    def ports(self):
        return self.call("port.list")

    port_list = ports

    def interface_create(self, port, address, mac=None, gateway=None,
                         mtu=None, name=None, count=None, host_macs=None):
        """address "10.1.0.1/16"; count: emulated hosts from it (a range);
        host_macs: each host its own MAC (mac + i)."""
        return self.call("interface.create", _drop_none(dict(
            port=port, address=address, mac=mac, gateway=gateway, mtu=mtu,
            name=name, count=count, host_macs=host_macs)))

    def interface_address_add(self, ifindex, address, count=None,
                              host_macs=None):
        return self.call("interface.address.add", _drop_none(dict(
            ifindex=ifindex, address=address, count=count,
            host_macs=host_macs)))

    def interface_address_delete(self, ifindex, address):
        return self.call("interface.address.delete", ifindex=ifindex,
                         address=address)

    def route_add(self, prefix, gateway=None, ifindex=None):
        """prefix "192.168.0.0/16" or "default"."""
        return self.call("route.add", _drop_none(dict(
            prefix=prefix, gateway=gateway, ifindex=ifindex)))

    def route_delete(self, prefix):
        return self.call("route.delete", prefix=prefix)

    def routes(self):
        return self.call("route.list")

    route_list = routes

    def neighbours(self, worker=None, ifindex=None, state=None,
                   count_only=None):
        """{"count": n, "neighbours": [...]}"""
        return self.call("neighbour.list", _drop_none(dict(
            worker=worker, ifindex=ifindex, state=state,
            count_only=count_only)))

    neighbour_list = neighbours

    def neighbour_flush(self, ifindex=None):
        return self.call("neighbour.flush", _drop_none(dict(ifindex=ifindex)))

    def interfaces(self):
        return self.call("interface.list")

    interface_list = interfaces

    def interface_delete(self, ifindex):
        return self.call("interface.delete", ifindex=ifindex)

    # -- statistics and capture -----------------------------------------------

    def stats(self):
        return self.call("stats.get")

    stats_get = stats

    def capture_start(self, path, port=None, snaplen=None):
        return self.call("capture.start", _drop_none(dict(
            path=path, port=port, snaplen=snaplen)))

    def capture_stop(self):
        return self.call("capture.stop")

    # -- impairment ---------------------------------------------------------------

    def impairment_set(self, direction, port=None, ifindex=None, **conf):
        """impairment.set on a port or an interface ("in" or "out"); conf
        as docs/api.md (seed, loss, ge_p, ge_r, ge_loss_good, ge_loss_bad,
        delay_us, jitter_us, reorder, reorder_us, duplicate, corrupt,
        rate_bps, rate_queue, limit). Returns what impairment.get does."""
        return self.call("impairment.set", _drop_none(dict(
            conf, port=port, ifindex=ifindex, direction=direction)))

    def impairment_get(self, direction=None, port=None, ifindex=None):
        """One impairment's conf and counters; with no argument, every
        impairment ({"impairments": [...]})."""
        return self.call("impairment.get", _drop_none(dict(
            port=port, ifindex=ifindex, direction=direction)))

    def impairment_clear(self, direction, port=None, ifindex=None):
        """Removes it; returns its last conf and counters."""
        return self.call("impairment.clear", _drop_none(dict(
            port=port, ifindex=ifindex, direction=direction)))

    # -- generators -------------------------------------------------------------

    def generator_create(self, kind="udp", **params):
        """generator.create; params as docs/api.md (role, interface, dst,
        dport, sport, port, echo, size, rate, duration, count). None values
        are left out."""
        p = _drop_none(params)
        p["kind"] = kind
        return self.call("generator.create", p)

    def udp_client(self, interface, dst, dport, **params):
        """A stopped UDP client generator; returns its id."""
        return self.generator_create("udp", role="client", interface=interface,
                                     dst=dst, dport=dport, **params)["id"]

    def udp_server(self, interface, port, echo=None):
        """A stopped UDP server generator; returns its id."""
        return self.generator_create("udp", role="server", interface=interface,
                                     port=port, echo=echo)["id"]

    def generator_start(self, id):
        return self.call("generator.start", id=id)

    def generator_stop(self, id):
        return self.call("generator.stop", id=id)

    def generator_delete(self, id):
        return self.call("generator.delete", id=id)

    def generators(self):
        return self.call("generator.list")

    generator_list = generators

    def generator_stats(self, id):
        return self.call("generator.stats", id=id)

    # -- TCP services, clients, connections -----------------------------------

    def tcp_service_create(self, kind, port, address=None, bytes=None,
                           max_connections=None):
        """A TCP server on every worker: kind "discard", "echo" or "http"
        (GET /bytes/N answers N bytes of the pattern; other paths `bytes`
        bytes, or 404 without it). Returns its id."""
        return self.call("tcp.service.create", _drop_none(dict(
            kind=kind, port=port, address=address, bytes=bytes,
            max_connections=max_connections)))["id"]

    def tcp_services(self, id=None):
        """Every service (or the one with `id`) with its counters."""
        return self.call("tcp.service.list", _drop_none(dict(id=id)))

    tcp_service_list = tcp_services

    def tcp_service_delete(self, id):
        return self.call("tcp.service.delete", id=id)

    def tcp_client_create(self, mode, remote, port, bytes=None, path=None,
                          host=None, address=None):
        """A TCP client, connecting at once: mode "send" (bytes of the
        pattern, then close) or "http_get" (GET path, default
        /bytes/<bytes>; CRC-32 of the body). Returns
        {"id", "worker", "local_port"}."""
        return self.call("tcp.client.create", _drop_none(dict(
            mode=mode, remote=remote, port=port, bytes=bytes, path=path,
            host=host, address=address)))

    def tcp_client_status(self, id):
        return self.call("tcp.client.status", id=id)

    def tcp_clients(self):
        return self.call("tcp.client.list")

    tcp_client_list = tcp_clients

    def tcp_client_delete(self, id):
        return self.call("tcp.client.delete", id=id)

    def tcp_connections(self, state=None, port=None, address=None,
                        worker=None, count=None, limit=None):
        """Like `ss -ti`: {"count": n, "truncated": bool, "connections":
        [...]}; count=True returns only {"count": n}."""
        return self.call("tcp.connections", _drop_none(dict(
            state=state, port=port, address=address, worker=worker,
            count=count, limit=limit)))


class Subscriber:
    """Iterates over ternd's PUB stream: yields (topic, dict).

        for topic, msg in Subscriber(topics=("event",)):
            print(msg["type"])

    `timeout` (seconds, None = forever) bounds the wait for each message;
    on expiry the iteration raises TernTimeout.
    """

    def __init__(self, endpoint=DEFAULT_EVENTS, topics=("stats", "event"),
                 timeout=None, context=None):
        self.endpoint = endpoint
        self.timeout = timeout
        self._ctx = context or zmq.Context.instance()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        for t in topics or ("",):
            self._sock.setsockopt(zmq.SUBSCRIBE, t.encode())
        self._sock.connect(endpoint)

    def recv(self, timeout=None):
        """The next (topic, dict); TernTimeout after `timeout` seconds."""
        t = self.timeout if timeout is None else timeout
        if t is not None and not self._sock.poll(int(t * 1000)):
            raise TernTimeout(self.endpoint, "subscribe", t)
        frames = self._sock.recv_multipart()
        topic = frames[0].decode(errors="replace")
        body = frames[-1] if len(frames) > 1 else b"{}"
        try:
            msg = json.loads(body.decode())
        except ValueError:
            msg = {"raw": body.decode(errors="replace")}
        return topic, msg

    def __iter__(self):
        while True:
            yield self.recv()

    def close(self):
        self._sock.close(linger=0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
