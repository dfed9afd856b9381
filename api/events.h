/* PUB socket helpers: two-frame messages [topic, json]. */
#ifndef TERND_EVENTS_H
#define TERND_EVENTS_H

#include <jansson.h>

#include "ternd.h"

/* Wall clock in Unix seconds, as events report it. */
double events_now(void);
/* Publishes [topic, compact json]; never blocks (slow subscribers lose
 * messages, as PUB does). Borrows obj. */
int events_publish(struct ternd *d, const char *topic, json_t *obj);
/* Publishes topic "event": {"time", "type", ...fields}. Steals fields
 * (may be NULL). */
void events_emit(struct ternd *d, const char *type, json_t *fields);
/* zmq_send() that carries on after a signal (EINTR). net_tap raises
 * SIGIO on every frame its queues receive (DPDK's tap_trigger), so under
 * traffic the control thread's sends were interrupted: a reply dropped,
 * or a multipart message left half sent. */
int ternd_zsend(void *s, const void *buf, size_t len, int flags);

#endif
