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

#endif
