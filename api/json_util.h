/* JSON-RPC error objects and strict parameter readers. Every invalid
 * parameter is reported with the field it concerns, in the message and in
 * error.data.field, so a script can tell which of its inputs was wrong. */
#ifndef TERND_JSON_UTIL_H
#define TERND_JSON_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define RPC_PARSE_ERROR -32700
#define RPC_INVALID_REQUEST -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS -32602
#define RPC_INTERNAL_ERROR -32603
#define RPC_NOT_FOUND -32000
#define RPC_CONFLICT -32001
#define RPC_BUSY -32002
#define RPC_EXHAUSTED -32003
#define RPC_TIMEOUT -32004
#define RPC_IO_ERROR -32005

struct rpc_error {
	int code;		/* 0: no error */
	char message[256];
	json_t *data;		/* owned; NULL or an object */
};

/* Sets e (once: the first error wins) to code with data {"field", "reason"}
 * (field omitted when NULL) and message "<code text>: <field>: <reason>". */
void rpc_err(struct rpc_error *e, int code, const char *field,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Maps -errno (or errno) from tern_* calls to the documented code; reason
 * NULL uses strerror. */
void rpc_err_errno(struct rpc_error *e, int err, const char *field,
		   const char *reason);
/* rpc_err_errno() for the data plane's "field: reason" explanations:
 * the field goes to error.data.field; fallback when why is NULL. */
void rpc_err_why(struct rpc_error *e, int err, const char *why,
		 const char *fallback);
void rpc_err_clear(struct rpc_error *e);
const char *rpc_code_text(int code);

/* Parameter readers over a params object. They return 1 when the field is
 * present and valid, 0 when it is absent and optional, -1 after filling e
 * (missing required field, wrong JSON type, out of range). */
int jp_int(json_t *params, const char *key, bool required, int64_t min,
	   int64_t max, int64_t *out, struct rpc_error *e);
/* Accepts JSON integers and reals; min/max inclusive. */
int jp_num(json_t *params, const char *key, bool required, double min,
	   double max, double *out, struct rpc_error *e);
/* Non-empty string without NUL, at most maxlen bytes. */
int jp_str(json_t *params, const char *key, bool required, size_t maxlen,
	   const char **out, struct rpc_error *e);
int jp_bool(json_t *params, const char *key, bool required, bool *out,
	    struct rpc_error *e);
/* Fails naming the first key of params not in allowed (NULL-terminated). */
int jp_only(json_t *params, const char *const *allowed, struct rpc_error *e);
/* For methods without parameters. */
int jp_none(json_t *params, struct rpc_error *e);

/* Building results: counters are unsigned, JSON integers signed; clamp
 * instead of wrapping so a huge counter never shows negative. */
json_t *ju_u64(uint64_t v);
/* "02:00:00:00:00:01" (lower case). */
void ju_fmt_mac(const uint8_t mac[6], char buf[18]);
/* Strict "xx:xx:xx:xx:xx:xx"; 0 or -EINVAL. */
int ju_parse_mac(const char *s, uint8_t mac[6]);

#endif
