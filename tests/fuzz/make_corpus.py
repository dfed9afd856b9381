#!/usr/bin/env python3
"""Writes the seed corpus for tern_fuzz_frame (see fuzz_frame.h for the
input layout). Run from anywhere; rewrites tests/fuzz/corpus/."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

US = bytes([2, 0, 0, 0, 0, 1])
PEER = bytes([2, 0, 0, 0, 0, 0x99])
IP_US = bytes([10, 0, 0, 1])
IP_PEER = bytes([10, 0, 0, 99])


def csum(b, s=0):
    if len(b) % 2:
        b += b"\0"
    for i in range(0, len(b), 2):
        s += (b[i] << 8) | b[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def eth(t, payload, dst=US):
    return dst + PEER + struct.pack("!H", t) + payload


def ip4(proto, l4, src=IP_PEER, dst=IP_US, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4


def udp(sport, dport, payload, src=IP_PEER, dst=IP_US):
    ln = 8 + len(payload)
    u = struct.pack("!HHHH", sport, dport, ln, 0) + payload
    ph = src + dst + struct.pack("!BBH", 0, 17, ln)
    c = csum(ph + u) or 0xFFFF
    return u[:6] + struct.pack("!H", c) + u[8:]


def icmp(t, code, ident, seq, payload):
    b = struct.pack("!BBHHH", t, code, 0, ident, seq) + payload
    return b[:2] + struct.pack("!H", csum(b)) + b[4:]


def arp(op, tpa=IP_US, htype=1, hlen=6, plen=4):
    return struct.pack("!HHBBH", htype, 0x0800, hlen, plen, op) + PEER + IP_PEER + bytes(6) + tpa


def frags(proto_sel, ident, dgram, parts):
    """Mode 6 input: parts are (offset in bytes, length or 0 for the rest,
    more fragments after it, seconds to let pass after it); dgram is the
    datagram they slice. A record carries at most 2043 bytes, so a longer
    part becomes several records (the last keeps the part's MF flag)."""
    recs = []
    for p in parts:
        off, ln, mf = p[:3]
        wait = p[3] if len(p) > 3 else 0
        if ln == 0:
            ln = max(1, len(dgram) - off)
        while ln > 0:
            take = min(ln, 255 * 8)
            last = take == ln
            assert take % 8 <= 3, "a record adds at most 3 bytes to 8-byte units"
            fo = (0x2000 if (mf or not last) else 0) | (off // 8)
            recs.append(struct.pack("!HBB", fo, take // 8,
                                    (take % 8) << 6 | (wait if last else 0)))
            off += take
            ln -= take
    assert len(recs) <= 32, len(recs)
    return bytes([proto_sel, ident, len(recs)]) + b"".join(recs) + dgram


UDP_4000 = udp(4000, 7, bytes(i % 251 for i in range(4000 - 8)))
ICMP_3000 = icmp(8, 0, 5, 6, bytes(i % 7 for i in range(3000 - 8)))

seeds = {
    # mode 0: whole frames
    "raw_arp_request": (0, 0, eth(0x0806, arp(1), dst=b"\xff" * 6)),
    "raw_arp_reply": (0, 0, eth(0x0806, arp(2))),
    "raw_arp_other_target": (0, 0, eth(0x0806, arp(1, tpa=bytes([10, 0, 0, 77])), dst=b"\xff" * 6)),
    "raw_udp_echo_port": (0, 0, eth(0x0800, ip4(17, udp(4000, 7, b"hello")))),
    "raw_udp_closed_port": (0, 0, eth(0x0800, ip4(17, udp(4000, 4444, b"x" * 30)))),
    "raw_icmp_echo": (0, 0, eth(0x0800, ip4(1, icmp(8, 0, 1, 1, bytes(range(56)))))),
    "raw_icmp_echo_resolved": (0x20, 0, eth(0x0800, ip4(1, icmp(8, 0, 1, 1, b"abc")))),
    "raw_fragment": (0, 0, eth(0x0800, ip4(17, udp(4000, 7, b"frag"), frag=0x2000))),
    "raw_truncated_ip": (0, 0, eth(0x0800, ip4(17, udp(4000, 7, b"t")))[:30]),
    "raw_short": (0, 0, b"\x02\x00\x00"),
    "raw_chained_udp": (0, 17, eth(0x0800, ip4(17, udp(4000, 7, bytes(900))))),
    "raw_good_flags": (0, 0x40, eth(0x0800, ip4(17, udp(4000, 9, b"good")))),
    "raw_bad_flags": (0, 0x80, eth(0x0800, ip4(17, udp(4000, 9, b"bad")))),
    "raw_none_flags": (0, 0xC0, eth(0x0800, ip4(17, udp(4000, 9, b"none")))),
    "raw_offload_echo": (0x60, 0, eth(0x0800, ip4(17, udp(4000, 7, b"offload")))),
    "raw_txfull_echo": (0xA0, 0, eth(0x0800, ip4(17, udp(4000, 7, b"full")))),
    # mode 1: ARP body after Ethernet
    "arp_request": (1, 0, arp(1)),
    "arp_bad_htype": (1, 0, arp(1, htype=6)),
    "arp_bad_hlen": (1, 0, arp(1, hlen=9)),
    "arp_truncated": (1, 0, arp(1)[:13]),
    "arp_split": (1, 20, arp(1)),
    # mode 2: IPv4 after Ethernet
    "ip_udp": (2, 0, ip4(17, udp(4000, 7, b"ip"))),
    "ip_icmp": (2, 0, ip4(1, icmp(8, 0, 9, 9, b"ping"))),
    "ip_options": (2, 0, bytes([0x46]) + ip4(17, udp(4000, 7, b"o"))[1:]),
    "ip_split_header": (2, 25, ip4(17, udp(4000, 7, b"split"))),
    # mode 3: L4 after a valid IPv4 header (first byte picks the protocol)
    "l4_icmp": (3, 0, bytes([0]) + icmp(8, 0, 1, 2, b"l4")),
    "l4_udp": (3, 0, bytes([1]) + udp(4000, 7, b"l4")),
    "l4_tcp": (3, 0, bytes([2]) + bytes(20)),
    "l4_unknown": (3, 0, bytes([3]) + b"????"),
    # mode 4: UDP payload to port 7 (echo) or 9 (sink)
    "udp_echo": (4, 0, b"\x00echo me"),
    "udp_sink": (4, 0, b"\x01sink"),
    "udp_echo_resolved_chain": (0x24, 40, b"\x00" + bytes(1000)),
    # mode 5: ICMP after a valid IPv4 header, checksum fixed
    "icmp_echo": (5, 0, icmp(8, 0, 3, 4, b"12345678")),
    "icmp_unreach": (5, 0, icmp(3, 3, 0, 0, ip4(17, udp(7, 4000, b"q"))[:28])),
    "icmp_short": (5, 0, b"\x08\x00"),
    # mode 6: IPv4 fragments (see fuzz_frame.h)
    "frag_in_order": (6, 0, frags(0, 1, UDP_4000, [(0, 1488, True), (1488, 0, False)])),
    "frag_reverse": (6, 0, frags(0, 2, UDP_4000, [(2000, 0, False), (1000, 1000, True),
                                                   (0, 1000, True)])),
    "frag_overlap": (6, 0, frags(0, 3, UDP_4000, [(0, 1024, True), (512, 1024, True),
                                                   (1024, 0, False)])),
    "frag_duplicate": (6, 0, frags(0, 4, UDP_4000, [(0, 1024, True), (0, 1024, True),
                                                     (1024, 0, False)])),
    "frag_gap_timeout": (6, 0, frags(0, 5, UDP_4000, [(0, 1000, True, 31),
                                                       (2000, 0, False)])),
    "frag_oversize": (6, 0, frags(0, 6, UDP_4000, [(65512, 40, False)])),
    "frag_too_many": (6, 0, frags(0, 7, UDP_4000[:1000], [(i * 64, 64, True) for i in range(11)]
                                  + [(704, 0, False)])),
    "frag_odd_middle": (6, 0, frags(0, 8, UDP_4000, [(0, 19, True), (24, 0, False)])),
    "frag_icmp_echo": (6, 0, frags(2, 9, ICMP_3000, [(0, 1480, True), (1480, 1480, True),
                                                      (2960, 0, False)])),
    "frag_split_chain": (6, 30, frags(1, 10, UDP_4000, [(0, 1024, True), (1024, 0, False)])),
}

os.makedirs(OUT, exist_ok=True)
for name, (b0, b1, body) in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([b0, b1]) + body)
print(f"wrote {len(seeds)} seeds to {OUT}")
