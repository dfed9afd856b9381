/* capture.start / capture.stop: pcapng capture run by the data plane;
 * the main loop calls tern_dp_capture_poll to write what lcores copied. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tern/dp.h>

#include "events.h"
#include "methods.h"

json_t *m_capture_start(struct ternd *d, json_t *p, struct rpc_error *e)
{
	static const char *const allowed[] = { "path", "port", "snaplen",
					       NULL };
	const char *path;
	/* snaplen 0 asks the data plane for whole frames. */
	int64_t port = UINT16_MAX, snaplen = 0;
	struct tern_port_info pi;
	int rc;

	if (jp_only(p, allowed, e) < 0 ||
	    jp_str(p, "path", true, 4095, &path, e) < 0 ||
	    jp_int(p, "port", false, 0, UINT16_MAX - 1, &port, e) < 0 ||
	    jp_int(p, "snaplen", false, 16, 65535, &snaplen, e) < 0)
		return NULL;
	if (port != UINT16_MAX &&
	    tern_dp_port_by_id(d->dp, (uint16_t)port, &pi) < 0) {
		rpc_err(e, RPC_NOT_FOUND, "port", "no port %lld (see port.list)",
			(long long)port);
		return NULL;
	}
	rc = tern_dp_capture_start(d->dp, path, (uint16_t)port,
				   (uint32_t)snaplen);
	if (rc == -EBUSY) {
		rpc_err(e, RPC_BUSY, NULL, "a capture already runs");
		return NULL;
	}
	if (rc == -ENODEV) {
		rpc_err(e, RPC_NOT_FOUND, "port", "no such port");
		return NULL;
	}
	if (rc == -ENOMEM || rc == -ENOBUFS) {
		rpc_err_errno(e, rc, NULL, "no memory for the capture");
		return NULL;
	}
	if (rc < 0) {
		/* Anything else is about the file: a missing directory
		 * (ENOENT) must read as an I/O error on path, not as an
		 * unknown object. */
		rpc_err(e, RPC_IO_ERROR, "path", "cannot write %.100s: %s",
			path, strerror(-rc));
		return NULL;
	}
	events_emit(d, "capture.started", json_pack("{ss}", "path", path));
	return json_pack("{ss}", "path", path);
}

json_t *m_capture_stop(struct ternd *d, json_t *p, struct rpc_error *e)
{
	char path[4096] = "";
	uint64_t written = 0, missed = 0;
	int rc;

	if (jp_none(p, e) < 0)
		return NULL;
	if (!tern_dp_capture_running(d->dp, path, sizeof(path))) {
		rpc_err(e, RPC_NOT_FOUND, NULL, "no capture runs");
		return NULL;
	}
	/* Flush what the lcores copied before the final counts. */
	tern_dp_capture_poll(d->dp);
	rc = tern_dp_capture_stop(d->dp, &written, &missed);
	if (rc == -ENOENT) {
		rpc_err(e, RPC_NOT_FOUND, NULL, "no capture runs");
		return NULL;
	}
	if (rc < 0) {
		rpc_err(e, RPC_IO_ERROR, "path", "closing %.100s: %s", path,
			strerror(-rc));
		return NULL;
	}
	events_emit(d, "capture.stopped",
		    json_pack("{ss so so}", "path", path, "written",
			      ju_u64(written), "missed", ju_u64(missed)));
	return json_pack("{ss so so}", "path", path, "written",
			 ju_u64(written), "missed", ju_u64(missed));
}
