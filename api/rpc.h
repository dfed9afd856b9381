/* JSON-RPC 2.0 framing over one request frame: parse, validate, dispatch,
 * batches and notifications. */
#ifndef TERND_RPC_H
#define TERND_RPC_H

#include <stddef.h>

#include "ternd.h"

/* Largest request frame accepted; larger ones get -32600 unread. */
#define RPC_MAX_FRAME (1u << 20)

/* Handles one frame; returns the reply text (malloc'd, caller frees) or
 * NULL when nothing is to be sent (notifications only). */
char *rpc_handle_frame(struct ternd *d, const char *buf, size_t len);
/* Reply text for a frame rejected before parsing (too large). */
char *rpc_reject_frame(int code, const char *reason);

#endif
