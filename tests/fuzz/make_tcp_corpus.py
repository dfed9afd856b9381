#!/usr/bin/env python3
"""Writes the seed corpus for tern_fuzz_tcp (see fuzz_tcp.h for the input
layout): short TCP conversations that reach each state and mechanism, so
the fuzzer starts deep. Run from anywhere; rewrites tests/fuzz/tcp_corpus/
except the found-* files: inputs the fuzzer found that failed before a
fix, kept as they were.

Each seed is byte 0 (the run's configuration) then ops. tern_unit replays
every file (test_fuzz_corpus.cc); TERN_FUZZ_TRACE=1 shows what one does:
  TERN_FUZZ_TRACE=1 build-fuzz/tests/tern_fuzz_tcp tests/fuzz/tcp_corpus/X
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tcp_corpus")

(SEG, TIME, CONNECT, LISTEN, LCLOSE, WRITE, SEND_REF, CONSUME, SHUTDOWN,
 CLOSE, ABORT, SETOPT, RAW_TCP, RAW_FRAME, SOCK, HOG) = range(16)

# flag sets (fuzz_tcp_peer.c flag_sets)
ACK, ACKPSH, SYN, SYNACK, FINACK, FINPSHACK, RST, RSTACK = 0, 1, 2, 3, 4, 5, 6, 7
FIN, SYNFIN = 10, 11

# seq bases (low 2 bits) and units (bits 2-3)
RCV_NXT, RCV_EDGE, RCV_NXT_1, RAW = 0, 1, 2, 3
U1, U64, UMSS, U32K = 0, 4, 8, 12
# ack bases
UNA, NXT, MAX = 0, 1, 2

# options byte
O_TS, O_SACK, O_SYN, O_RAW, O_OLDTS = 1, 2, 4, 8, 16
# shape byte
X_SPLIT_HDR, X_SPLIT_DATA, X_CHAIN, X_BADCK, X_OLGOOD, X_ZEROS = 1, 2, 3, 4, 8, 16
X_ICMP = 32
ICMP_FRAG, ICMP_PORT, ICMP_HOST, ICMP_TTL = 0, 64, 128, 192

# targets: an existing connection by index, or a tuple
def conn(i=0):
    return i & 0x7F


def tup(lport_sel=0, pport=0):
    """lport_sel: 0 -> 80, 1 -> 81, 2 -> 82 (sockets), 3 -> 9 (closed)"""
    return 0x80 | (lport_sel & 3) | (pport & 7) << 2


def seg(target, flags, seq=RCV_NXT, sd=0, ack=UNA, ad=0, wnd=0xFF, opts=O_TS,
        length=0, shape=0, syn_opts=(0x06, 7 << 2), sack=None, raw_opts=b"",
        seq_raw=None, ack_raw=None):
    """One segment from the peer. syn_opts (m1, m2): m1 bit 0 no MSS,
    bit 1 WS, bit 2 SACK-permitted; m2 bits 0-1 MSS {1460, 536, 1, 9000},
    bits 2-5 the shift. sack: (sb, [(b1, b2), ...]) blocks from snd_una in
    MSS units (sb bit 2: in bytes)."""
    b = bytes([SEG, target, flags, seq, sd & 0xFF, ack, ad & 0xFF, wnd, opts])
    if seq & 3 == RAW:
        b += struct.pack("!I", seq_raw or 0)
    if ack & 3 == RAW:
        b += struct.pack("!I", ack_raw or 0)
    if opts & O_RAW:
        b += bytes([len(raw_opts)]) + raw_opts
    else:
        if opts & O_SYN:
            b += bytes(syn_opts)
        if opts & O_SACK:
            sb, blocks = sack
            b += bytes([sb | (len(blocks) - 1)])
            for b1, b2 in blocks:
                b += bytes([b1, b2])
    if length < 128:
        lb = length
    else:
        lb = 0x7F + (length + 31) // 32
    return b + bytes([lb, shape])


def syn(target, **kw):
    kw.setdefault("opts", O_TS | O_SYN)
    return seg(target, SYN, ack=UNA, **kw)


def icmp(target, kind, ack=UNA, ad=0, mtu_byte=0, length=0):
    """An ICMP error about our segment at ack (+ ad); MTU (w << 8 | 255)
    for fragmentation needed; length sizes the quoted segment."""
    return seg(target, ACK, ack=ack, ad=ad, wnd=mtu_byte, opts=0,
               length=length, shape=X_ICMP | kind)


def time_ms(ms):
    out = b""
    while ms > 0:
        if ms < 100:
            out += bytes([TIME, ms])
            ms = 0
        elif ms < 5000:
            k = min(ms // 50, 100)
            out += bytes([TIME, 99 + k])
            ms -= k * 50
        else:
            k = min(ms // 1000, 56)
            out += bytes([TIME, 199 + k])
            ms -= k * 1000
    return out


def listen(port=0, o1=0, o2=0, beh=0, accept_mode=0, backlog=0):
    return bytes([LISTEN, port, o1, o2, beh, accept_mode | backlog << 2])


def connect(o1=0, o2=0, beh=0, rport=0, lport=None):
    p = rport & 7
    if lport is not None:
        p |= 8 | (lport & 7) << 4
    return bytes([CONNECT, o1, o2, beh, p])


def write(n, slot=0):
    if n < 0x40:
        l = n
    elif n <= 64 * 64:
        l = 0x3F + n // 64
    else:
        l = 0x7F + n // 1024
    return bytes([WRITE, slot, l])


def send_ref(n, mode, slot=0):
    l = n if n < 0x80 else 0x7F + n // 16
    return bytes([SEND_REF, slot, l, mode])


def consume(n, slot=0):
    return bytes([CONSUME, slot, 0x7F + n // 1024 if n >= 4096 else
                  (0x3F + n // 64 if n >= 64 else n)])


def op(code, *args):
    return bytes([code, *args])


def sock(sub, a=0, b=0):
    return bytes([SOCK, sub, a, b])


# behaviour bits (fuzz_tcp_priv.h BEH_*)
RX_FREE, RX_HOLD, RX_ECHO, RX_REPLY = 0, 1, 2, 3
CLOSE_ON_FIN, SHUT_ON_FIN, ABORT_ON_DATA = 4, 8, 16
WRITE_ON_SENT, CLOSE_AT_START, CLOSE_ON_DATA = 32, 64, 128
# o1
NO_SACK, NO_WS, NO_TS, NODELAY, MANUAL, RST_CLOSE, RCV_SMALL, SND_SMALL = (
    1, 2, 4, 8, 16, 32, 64, 128)
# o2
CC_RENO, CC_CUBIC, MSS88, KEEPALIVE, SYN1, RCV_BIG, RCV_TINY = 1, 2, 4, 8, 16, 32, 64

# configurations (byte 0)
C_DEFAULT = 0
C_RENO, C_CUBIC, C_NODELACK, C_RTOMIN, C_FEWRETRIES = 1, 2, 4, 8, 16
C_TXREFUSE, C_UNRESOLVED, C_GRACEFUL = 32, 64, 128


def passive(beh=0, o1=0, o2=0, accept_mode=0, opts=O_TS | O_SYN, pport=0,
            syn_opts=(0x06, 7 << 2), ack_opts=O_TS):
    return (listen(0, o1, o2, beh, accept_mode) +
            syn(tup(0, pport), opts=opts, syn_opts=syn_opts) +
            seg(conn(0), ACK, ack=NXT, opts=ack_opts))


def active(beh=0, o1=0, o2=0, opts=O_TS | O_SYN, syn_opts=(0x06, 7 << 2),
           lport=None):
    return (connect(o1, o2, beh, 0, lport) +
            seg(conn(0), SYNACK, ack=NXT, opts=opts, syn_opts=syn_opts))


def data(n, target=0, sd=0, unit=U1, flags=ACKPSH, **kw):
    return seg(conn(target), flags, seq=RCV_NXT | unit, sd=sd, length=n, **kw)


def ack_all(target=0, wnd=0xFF, ack=MAX, **kw):
    return seg(conn(target), ACK, ack=ack, wnd=wnd, **kw)


SEEDS = {
    "passive_handshake": passive() + time_ms(100),
    "passive_no_options": passive(opts=0, ack_opts=0) + data(100, opts=0) +
    time_ms(50),
    "passive_data_in": passive() + data(100) + data(1448) + data(1448) +
    time_ms(200),
    "passive_data_both": passive(beh=RX_REPLY) + data(300) + write(3000) +
    ack_all() + time_ms(300) + ack_all(),
    "passive_out_of_order": passive() + data(1000, sd=1, unit=UMSS) +
    data(500, sd=3, unit=UMSS) + data(1448) + data(1448, sd=0) +
    data(2000) + time_ms(100),
    "passive_overlap_edges": passive() + data(200) +
    seg(conn(0), ACKPSH, seq=RCV_NXT, sd=-10, length=100) +
    seg(conn(0), ACKPSH, seq=RCV_EDGE, sd=-20, length=100) + time_ms(50),
    "overlap_in_chains": passive() + data(200) +
    seg(conn(0), ACKPSH, seq=RCV_NXT, sd=-10, length=100,
        shape=X_SPLIT_DATA) +
    data(300, sd=2, unit=U64, shape=X_CHAIN) +
    seg(conn(0), ACKPSH, seq=RCV_NXT, sd=-20, length=100, shape=X_CHAIN) +
    data(1000, shape=X_SPLIT_DATA) + time_ms(50),
    "passive_peer_fin_first": passive(beh=CLOSE_ON_FIN) + data(100) +
    seg(conn(0), FINACK) + time_ms(10) + ack_all() + time_ms(100),
    "passive_app_fin_first": passive() + op(CLOSE, 0) + ack_all() +
    seg(conn(0), FINACK, ack=MAX) + time_ms(61000),
    "simultaneous_close": passive() + write(100) + op(CLOSE, 0) +
    seg(conn(0), FINACK, ack=UNA) + ack_all() + time_ms(61000),
    "data_with_fin": passive(beh=SHUT_ON_FIN) + data(500, flags=FINPSHACK) +
    ack_all() + time_ms(1000),
    "rst_established": passive() + data(10) + seg(conn(0), RST, opts=0),
    "rst_challenge": passive() + seg(conn(0), RST, seq=RCV_NXT, sd=5, opts=0) +
    seg(conn(0), RSTACK, seq=RCV_NXT, opts=0),
    "syn_in_established": passive() + syn(conn(0), seq=RCV_NXT, sd=100) +
    time_ms(10),
    "syn_received_dup_syn": listen() + syn(tup(0, 1)) +
    syn(conn(0), seq=RCV_NXT_1) + seg(conn(0), ACK, ack=NXT),
    "syn_received_timeout": listen() + syn(tup(0, 2)) + time_ms(130000),
    "syn_received_rst": listen() + syn(tup(0, 2)) + seg(conn(0), RST, opts=0),
    "syn_received_bad_ack": listen() + syn(tup(0, 2)) +
    seg(conn(0), ACK, ack=NXT, ad=5),
    "active_handshake": active() + data(700) + write(2000) + ack_all() +
    time_ms(100),
    "active_no_options": active(opts=O_SYN, syn_opts=(1, 0)) + write(1000) +
    ack_all(opts=0),
    "active_refused": connect() + seg(conn(0), RSTACK, ack=NXT, opts=0),
    "active_syn_timeout": connect(o2=SYN1) + time_ms(10000),
    "simultaneous_open": connect(lport=1) +
    seg(conn(0), SYN, ack=UNA, opts=O_TS | O_SYN) +
    seg(conn(0), ACK, ack=NXT) + data(100) + time_ms(50),
    "zero_window_persist": passive() + write(20000) + ack_all(wnd=0) +
    time_ms(5000) + ack_all(wnd=0) + time_ms(3000) + ack_all(wnd=0x10) +
    time_ms(1000) + ack_all(),
    "rto_retransmit": active() + write(5000) + time_ms(1500) +
    time_ms(3000) + ack_all(),
    "fast_retransmit": active(o1=NODELAY) + write(30000) +
    seg(conn(0), ACK, ack=UNA | UMSS, ad=1) + ack_all(ack=UNA) * 4 +
    seg(conn(0), ACK, ack=UNA | UMSS, ad=2) + ack_all(ack=UNA) +
    ack_all() + time_ms(200),
    "sack_recovery": active(o1=NODELAY) + write(30000) +
    seg(conn(0), ACK, opts=O_TS | O_SACK, sack=(0, [(1, 1)])) +
    seg(conn(0), ACK, opts=O_TS | O_SACK, sack=(0, [(1, 3)])) +
    seg(conn(0), ACK, opts=O_TS | O_SACK, sack=(0, [(1, 5), (7, 1)])) +
    seg(conn(0), ACK, ack=UNA | UMSS, ad=6, opts=O_TS | O_SACK,
        sack=(0, [(1, 2)])) + ack_all() + time_ms(300),
    "sack_reported": passive() + data(100, sd=2, unit=UMSS) +
    data(100, sd=4, unit=UMSS) + data(100, sd=6, unit=UMSS) +
    data(100, sd=8, unit=UMSS) + data(1448) + time_ms(50),
    "icmp_frag_needed": active() + write(6000) +
    icmp(conn(0), ICMP_FRAG, mtu_byte=3, length=1448) + ack_all() +
    time_ms(100) + ack_all(),
    "icmp_frag_needed_handshake": connect() +
    icmp(conn(0), ICMP_FRAG, mtu_byte=0, length=100) +
    seg(conn(0), SYNACK, ack=MAX, opts=O_TS | O_SYN) + write(3000) +
    ack_all() + time_ms(100),
    "icmp_port_unreachable": connect() + icmp(conn(0), ICMP_PORT) +
    connect(rport=1) + icmp(conn(0), ICMP_TTL) + time_ms(100),
    "icmp_stale_and_unmatched": passive() + write(3000) +
    icmp(conn(0), ICMP_HOST, ack=MAX, ad=5) + icmp(tup(3, 5), ICMP_PORT) +
    ack_all(),
    "keepalive": active(o2=KEEPALIVE) + time_ms(5000),
    "keepalive_setopt": passive() + op(SETOPT, 0, 2, 0x15) + time_ms(3000) +
    ack_all() + time_ms(10000),
    "manual_window": passive(o1=MANUAL | RCV_SMALL, beh=RX_HOLD) +
    data(1448) + data(1448) + data(1448) + time_ms(300) + consume(3000) +
    data(1000) + consume(2000) + time_ms(50),
    "deferred_accept": passive(accept_mode=1) + data(500) + data(500) +
    seg(conn(0), FINACK) + op(SETOPT, 0, 6, 0) + time_ms(10),
    "accept_close": passive(accept_mode=2) + ack_all() + time_ms(61000),
    "accept_abort": passive(accept_mode=3) + data(10),
    "send_by_reference": passive() + send_ref(1000, 2) + send_ref(700, 1) +
    send_ref(100, 0) + send_ref(0, 3) + ack_all() + time_ms(100),
    "echo": passive(beh=RX_ECHO) + data(1000) + ack_all() + data(300) +
    ack_all() + time_ms(50),
    "paws_old_timestamp": passive() + data(100) +
    seg(conn(0), ACKPSH, opts=O_TS | O_OLDTS, length=100) + time_ms(10),
    "syn_to_closed_port": syn(tup(3, 0)) + seg(tup(3, 1), ACK, opts=0) +
    seg(tup(3, 2), RST, opts=0),
    "listen_backlog_overflow": listen(0, backlog=1) + syn(tup(0, 0)) +
    syn(tup(0, 1)) + syn(tup(0, 2)) + time_ms(2000),
    "table_full": listen(0) + listen(1) +
    b"".join(syn(tup(0, i)) + syn(tup(1, i)) for i in range(8)) +
    connect() + time_ms(100),
    "fin_wait_2_timeout": passive() + op(CLOSE, 0) + ack_all() +
    time_ms(61000),
    "fin_without_mbuf": passive(beh=CLOSE_ON_FIN) + op(HOG, 0x7F) +
    op(CLOSE, 0) + op(HOG, 0x80) + time_ms(1500) + ack_all() +
    seg(conn(0), FINACK, ack=MAX) + time_ms(61000),
    "pool_exhausted": passive() + op(HOG, 0x7F) + write(3000) + data(100) +
    time_ms(1500) + op(HOG, 0x80) + ack_all() + time_ms(100),
    "sock_server": sock(0, 0, 2) + syn(tup(2, 3)) +
    seg(conn(0), ACK, ack=NXT) + data(300) + sock(2, 0) + sock(3, 1, 0x41) +
    sock(4, 1, 40) + sock(8) + ack_all() + seg(conn(0), FINACK, ack=MAX) +
    sock(3, 1, 0x40) + sock(6, 1) + ack_all() + time_ms(100),
    "sock_client": sock(1, 0, 0x0F) + seg(conn(0), SYNACK, ack=NXT,
                                          opts=O_TS | O_SYN) +
    sock(10, 0) + sock(4, 0, 20) + data(100) + sock(3, 0, 0x20) +
    sock(9, 0, 0) + sock(5, 0, 1) + ack_all() + sock(6, 0) + time_ms(100),
    "raw_segments": passive() +
    op(RAW_TCP, conn(0), 20, *([0] * 4), *struct.pack("!II", 0, 0), 0x50, 0x12,
       0, 0, 0, 0, 0, 0) +
    op(RAW_FRAME, 20, *([0xFF] * 20)),
    "graceful_end_in_flight": (C_GRACEFUL, passive() + write(10000) +
                               data(100)),
    "graceful_end_zero_window": (C_GRACEFUL | C_FEWRETRIES, passive() +
                                 write(10000) + ack_all(wnd=0)),
    "tx_refused": (C_TXREFUSE, active() + write(8000) + time_ms(2000) +
                   ack_all()),
    "peer_unresolved": (C_UNRESOLVED, connect() + time_ms(2000)),
    "reno_no_delack": (C_RENO | C_NODELACK | C_RTOMIN, active() +
                       write(20000) + ack_all(ack=UNA | UMSS, ad=2) +
                       data(100) + time_ms(30) + ack_all()),
    "few_retries": (C_FEWRETRIES, active() + write(1000) + time_ms(60000)),
    "small_mss": active(o2=MSS88, syn_opts=(0x06, 1 | 7 << 2)) + write(2000) +
    ack_all() + time_ms(100),
    "rst_on_close": passive(o1=RST_CLOSE) + data(10) + op(CLOSE, 0),
    "close_unread": passive(beh=RX_HOLD, o1=MANUAL) + data(100) +
    op(CLOSE, 0),
    "shutdown_in_syn_sent": connect() + op(SHUTDOWN, 0) + write(100) +
    seg(conn(0), SYNACK, ack=NXT, opts=O_TS | O_SYN) + ack_all() +
    seg(conn(0), FINACK, ack=MAX) + time_ms(61000),
    "time_wait_fin_again": passive() + op(CLOSE, 0) + ack_all() +
    seg(conn(0), FINACK, ack=MAX) + seg(conn(0), FINACK, seq=RCV_NXT_1,
                                       ack=MAX) + time_ms(61000),
    "window_past_edge": passive(o1=RCV_SMALL) + data(4000) +
    data(200, sd=2000) + time_ms(50),
    "big_window_scale": passive(o2=RCV_BIG, syn_opts=(0x06, 14 << 2)) +
    write(100000) + ack_all() + ack_all(),
    "abort_on_data": passive(beh=ABORT_ON_DATA) + data(1448) + data(1448),
    "write_on_sent": active(beh=WRITE_ON_SENT, o1=SND_SMALL) + write(3000) +
    ack_all() + ack_all() + time_ms(500),
    "setopts": passive() + op(SETOPT, 0, 0, 0) + op(SETOPT, 0, 1, 0) +
    op(SETOPT, 0, 4, 1) + write(5000) + op(SETOPT, 0, 4, 3) + write(5000) +
    op(SETOPT, 0, 5, 0) + op(SETOPT, 0, 7, 0) + op(SETOPT, 0, 3, 0) +
    op(LCLOSE, 0) + ack_all(),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("found-"):
            os.unlink(os.path.join(OUT, f))
    for name, seed in SEEDS.items():
        # (configuration, ops), or ops on the default configuration
        cfg, body = seed if isinstance(seed, tuple) else (C_DEFAULT, seed)
        data = bytes([cfg]) + body
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
