/* Generators as the control thread sees them: one tern_udp_gen instance
 * per worker stack, created, started, stopped, read and destroyed through
 * messages run on each worker. Rate and count are split over the workers
 * (remainder to worker 0); stats are summed back. */
#ifndef TERND_GEN_H
#define TERND_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <tern/udp_gen.h>

#include "ternd.h"

struct gen_slot {
	struct tern_udp_gen_conf conf;	/* this worker's share */
	bool active;			/* false: this worker has no share */
	struct tern_udp_gen *g;		/* written on the worker only */
	struct tern_udp_gen_stats st;	/* last snapshot */
};

struct gen {
	struct gen *next;
	uint32_t id;
	uint16_t ifindex;
	enum tern_gen_role role;
	json_t *config;			/* create params, defaults filled */
	enum tern_gen_state state;	/* last aggregated state */
	bool stuck;			/* a worker timed out: never freed */
	bool announced;			/* generator.done already emitted */
	unsigned nslots;
	struct gen_slot slot[];
};

struct gen_totals {
	struct tern_udp_gen_stats sum;	/* rtt min/max/sum combined */
	enum tern_gen_state state;
	double elapsed_s;
};

/* Splits conf over the workers, creates the instances and takes a ref on
 * the interface. NULL with *err = -errno (EADDRINUSE, ENOMEM, ...). */
struct gen *gen_new(struct ternd *d, const struct tern_udp_gen_conf *conf,
		    uint16_t ifindex, json_t *config, int *err);
struct gen *gen_find(struct ternd *d, uint32_t id);
int gen_start(struct ternd *d, struct gen *g);
int gen_stop(struct ternd *d, struct gen *g);
/* Stops, destroys the instances, drops the interface ref, unlinks, frees. */
void gen_free(struct ternd *d, struct gen *g);
/* Snapshots every worker's instance and combines them. */
int gen_totals(struct ternd *d, struct gen *g, struct gen_totals *t);
const char *gen_state_name(enum tern_gen_state s);

#endif
