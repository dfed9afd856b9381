/* The fuzz harness shared by the libFuzzer target (tern_fuzz_frame) and the
 * corpus replay in tern_unit: one input becomes one received frame in a
 * fresh stack with one interface; after the stack is destroyed the pool
 * must be full again. EAL must be running. */
#ifndef TERN_FUZZ_FRAME_H
#define TERN_FUZZ_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Input layout: bits 0-2 of byte 0 pick what the rest is (% TERN_FUZZ_MODES):
 *   0 the whole frame;            1 ARP after a valid Ethernet header;
 *   2 IPv4 after Ethernet;        3 L4 after a valid IPv4 header (byte 2
 *   picks ICMP/UDP/other);        4 UDP payload after valid headers to
 *   port 7 (echo) or 9 (sink);    5 ICMP after valid IPv4 (checksum fixed);
 *   6 IPv4 fragments: byte 2 the protocol (UDP, UDP, ICMP), byte 3 the
 *   datagram id, byte 4 how many fragments (up to 32), then 4 bytes per
 *   fragment: the flags/offset field (2 bytes: MF 0x2000, offset in 8-byte
 *   units), its length in 8-byte units, then a byte whose top 2 bits add
 *   0..3 bytes to the length (at least 1 in all) and whose low 6 bits are
 *   the seconds that pass after it; the bytes after the records are
 *   the datagram the fragments slice (zeros past its end). 35 s pass at
 *   the end, past the reassembly timeout.
 * Byte 0 bit 5: the peer is resolved; bit 6: the port offloads checksums;
 * bit 7: every other transmit burst is refused (tx full).
 * Byte 1: bits 0-5 split the frame into a chain at that offset (0: one
 * segment), bits 6-7 pick the rx checksum flags (unknown/good/bad/none).
 * Returns 0, or -1 when mbufs leaked (the caller aborts or fails). */
int tern_fuzz_frame(const uint8_t *data, size_t len);

#define TERN_FUZZ_MODES 7

#ifdef __cplusplus
}
#endif
#endif
