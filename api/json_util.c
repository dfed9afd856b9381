/* JSON-RPC error construction and the strict parameter readers. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"

const char *rpc_code_text(int code)
{
	switch (code) {
	case RPC_PARSE_ERROR: return "parse error";
	case RPC_INVALID_REQUEST: return "invalid request";
	case RPC_METHOD_NOT_FOUND: return "method not found";
	case RPC_INVALID_PARAMS: return "invalid params";
	case RPC_INTERNAL_ERROR: return "internal error";
	case RPC_NOT_FOUND: return "not found";
	case RPC_CONFLICT: return "already exists";
	case RPC_BUSY: return "busy";
	case RPC_EXHAUSTED: return "resource exhausted";
	case RPC_TIMEOUT: return "timed out";
	case RPC_IO_ERROR: return "I/O error";
	default: return "error";
	}
}

void rpc_err_clear(struct rpc_error *e)
{
	json_decref(e->data);
	e->data = NULL;
	e->code = 0;
	e->message[0] = '\0';
}

void rpc_err(struct rpc_error *e, int code, const char *field,
	     const char *fmt, ...)
{
	char reason[192];
	va_list ap;

	if (e->code != 0)	/* keep the first, most specific error */
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	e->code = code;
	if (field != NULL)
		snprintf(e->message, sizeof(e->message), "%s: %s: %s",
			 rpc_code_text(code), field, reason);
	else
		snprintf(e->message, sizeof(e->message), "%s: %s",
			 rpc_code_text(code), reason);
	e->data = json_object();
	if (e->data == NULL)
		return;
	if (field != NULL)
		json_object_set_new(e->data, "field", json_string(field));
	json_object_set_new(e->data, "reason", json_string(reason));
}

void rpc_err_errno(struct rpc_error *e, int err, const char *field,
		   const char *reason)
{
	int code;

	if (err < 0)
		err = -err;
	switch (err) {
	case ENOENT: case ENODEV: code = RPC_NOT_FOUND; break;
	case EEXIST: case EADDRINUSE: code = RPC_CONFLICT; break;
	case EBUSY: code = RPC_BUSY; break;
	case ENOSPC: case ENOMEM: case ENOBUFS: code = RPC_EXHAUSTED; break;
	case ETIMEDOUT: code = RPC_TIMEOUT; break;
	case EIO: case EACCES: case EPERM: case EROFS: case EISDIR:
	case ENOTDIR: case ENAMETOOLONG: case ELOOP:
		code = RPC_IO_ERROR; break;
	case EINVAL: code = RPC_INVALID_PARAMS; break;
	default: code = RPC_INTERNAL_ERROR; break;
	}
	/* -32602 must always name a field; "params" when the callee could
	 * not say which one it disliked. */
	if (code == RPC_INVALID_PARAMS && field == NULL)
		field = "params";
	rpc_err(e, code, field, "%s", reason != NULL ? reason : strerror(err));
}

void rpc_err_why(struct rpc_error *e, int err, const char *why,
		 const char *fallback)
{
	char field[32] = "";
	const char *colon = why != NULL ? strchr(why, ':') : NULL;

	if (colon != NULL && (size_t)(colon - why) < sizeof(field)) {
		memcpy(field, why, (size_t)(colon - why));
		field[colon - why] = '\0';
		why = colon + 1;
		while (*why == ' ')
			why++;
	}
	rpc_err_errno(e, err, field[0] != '\0' ? field : NULL,
		      why != NULL ? why : fallback);
}

static json_t *get(json_t *params, const char *key, bool required,
		   struct rpc_error *e)
{
	json_t *v = params != NULL ? json_object_get(params, key) : NULL;

	if (v == NULL && required)
		rpc_err(e, RPC_INVALID_PARAMS, key, "missing");
	return v;
}

int jp_int(json_t *params, const char *key, bool required, int64_t min,
	   int64_t max, int64_t *out, struct rpc_error *e)
{
	json_t *v = get(params, key, required, e);
	json_int_t i;

	if (v == NULL)
		return required ? -1 : 0;
	/* JSON integers only: 1.0 or "1" where an int is required is a
	 * client bug worth reporting, not guessing at. */
	if (!json_is_integer(v)) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "must be an integer");
		return -1;
	}
	i = json_integer_value(v);
	if (i < min || i > max) {
		rpc_err(e, RPC_INVALID_PARAMS, key,
			"%lld out of range %lld..%lld", (long long)i,
			(long long)min, (long long)max);
		return -1;
	}
	*out = i;
	return 1;
}

int jp_num(json_t *params, const char *key, bool required, double min,
	   double max, double *out, struct rpc_error *e)
{
	json_t *v = get(params, key, required, e);
	double d;

	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_number(v)) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "must be a number");
		return -1;
	}
	d = json_number_value(v);
	if (!isfinite(d) || d < min || d > max) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "%g out of range %g..%g",
			d, min, max);
		return -1;
	}
	*out = d;
	return 1;
}

int jp_str(json_t *params, const char *key, bool required, size_t maxlen,
	   const char **out, struct rpc_error *e)
{
	json_t *v = get(params, key, required, e);
	size_t len;

	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_string(v)) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "must be a string");
		return -1;
	}
	len = json_string_length(v);
	if (len == 0) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "must not be empty");
		return -1;
	}
	if (len > maxlen) {
		rpc_err(e, RPC_INVALID_PARAMS, key,
			"longer than %zu bytes", maxlen);
		return -1;
	}
	if (strlen(json_string_value(v)) != len) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "contains a NUL character");
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

int jp_bool(json_t *params, const char *key, bool required, bool *out,
	    struct rpc_error *e)
{
	json_t *v = get(params, key, required, e);

	if (v == NULL)
		return required ? -1 : 0;
	if (!json_is_boolean(v)) {
		rpc_err(e, RPC_INVALID_PARAMS, key, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int jp_only(json_t *params, const char *const *allowed, struct rpc_error *e)
{
	const char *key;
	json_t *v;

	if (params == NULL)
		return 0;
	json_object_foreach(params, key, v) {
		const char *const *a;
		bool ok = false;

		for (a = allowed; *a != NULL; a++)
			if (strcmp(*a, key) == 0)
				ok = true;
		if (!ok) {
			/* The key is client data: keep the message short. */
			char name[64];

			snprintf(name, sizeof(name), "%s", key);
			rpc_err(e, RPC_INVALID_PARAMS, name, "unknown parameter");
			return -1;
		}
	}
	return 0;
}

int jp_none(json_t *params, struct rpc_error *e)
{
	static const char *const none[] = { NULL };

	return jp_only(params, none, e);
}

json_t *ju_u64(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

void ju_fmt_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ju_parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	if (strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval((unsigned char)s[3 * i]);
		int lo = hexval((unsigned char)s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
