/* Event and stats publishing on the PUB socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "events.h"

double events_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ternd_zsend(void *s, const void *buf, size_t len, int flags)
{
	int rc;

	do
		rc = zmq_send(s, buf, len, flags);
	while (rc < 0 && zmq_errno() == EINTR);
	return rc;
}

int events_publish(struct ternd *d, const char *topic, json_t *obj)
{
	char *text;
	int rc = 0;

	if (d->pub == NULL)
		return -1;
	text = json_dumps(obj, JSON_COMPACT);
	if (text == NULL)
		return -1;
	/* DONTWAIT: PUB drops rather than blocks at its high-water mark,
	 * and the control loop must never stall on a subscriber. */
	if (ternd_zsend(d->pub, topic, strlen(topic),
			ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    ternd_zsend(d->pub, text, strlen(text), ZMQ_DONTWAIT) < 0)
		rc = -1;
	free(text);
	return rc;
}

void events_emit(struct ternd *d, const char *type, json_t *fields)
{
	json_t *ev = json_object();

	if (ev == NULL) {
		json_decref(fields);
		return;
	}
	json_object_set_new(ev, "time", json_real(events_now()));
	json_object_set_new(ev, "type", json_string(type));
	if (fields != NULL)
		json_object_update(ev, fields);
	json_decref(fields);
	events_publish(d, "event", ev);
	json_decref(ev);
}
