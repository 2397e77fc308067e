/*
 * bench_config.c - time to load (parse and validate) a generated config
 * with 1,000 aliases, 50 users and 5 groups; prints the median of several
 * runs. Secrets are not resolved (there are none). Not a test: it asserts
 * nothing about the figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/util.h"
#include "config/config.h"

#define NALIASES 1000
#define NUSERS 50
#define NGROUPS 5
#define RUNS 15

static char *
generate(size_t *len)
{
	struct buf b;
	int i;

	buf_init(&b, 0);
	buf_puts(&b, "[bot]\nname = \"bench\"\nprefix = \"!\"\nconfirm_timeout = \"5m\"\n"
	    "default_timeout = \"1m\"\nmax_concurrent = 32\n\n");
	for (i = 0; i < NUSERS; i++)
		buf_printf(&b, "[users.user%d]\nslack = \"U%07d\"\nmattermost = "
		    "\"mm%024d\"\nconsole = \"user%d\"\ngroups = [\"group%d\"]\n"
		    "[users.user%d.vars]\nregion = \"r%d\"\n\n",
		    i, i, i, i, i % NGROUPS, i, i % 3);
	for (i = 0; i < NGROUPS; i++)
		buf_printf(&b, "[groups.group%d]\nmembers = [\"user%d\"]\n\n", i, i);
	buf_puts(&b, "[vars]\nci_url = \"https://ci.example.com\"\n\n");
	for (i = 0; i < NALIASES; i++) {
		buf_printf(&b,
		    "[[alias]]\n"
		    "name = \"action-%d\"\n"
		    "description = \"Generated action number %d\"\n"
		    "category = \"cat%d\"\n"
		    "formats = [\"act%d {{service}} on {{host=localhost}}\", "
		    "{ display = \"do%d <app>\", representation = [\"do%d {{app}}\", "
		    "\"run%d {{app}} to {{env=staging}}\"] }]\n"
		    "timeout = \"%ds\"\n"
		    "ack = \"Running {{ actionalias.name }} for {{ user.name }}\"\n",
		    i, i, i % 10, i, i, i, i, 10 + i % 50);
		if (i % 3 == 0)
			buf_printf(&b, "[alias.confirm]\ntimeout = \"2m\"\n"
			    "approver_groups = [\"group%d\"]\nallow_self = true\n",
			    i % NGROUPS);
		buf_printf(&b, "[alias.access]\ngroups = [\"group%d\", \"group%d\"]\n"
		    "deny_users = [\"user%d\"]\n", i % NGROUPS, (i + 1) % NGROUPS,
		    i % NUSERS);
		if (i % 4 == 0)
			buf_printf(&b, "[alias.http]\nmethod = \"POST\"\n"
			    "url = \"{{ system.ci_url }}/job/{{ app }}\"\n"
			    "headers = { \"Content-Type\" = \"application/json\" }\n"
			    "body = '{\"env\": {{ env | tojson }}}'\n\n");
		else
			buf_printf(&b, "[alias.exec]\nargv = [\"systemctl\", \"status\", "
			    "\"--no-pager\", \"{{ service }}\"]\nenv = { HOST = "
			    "\"{{ host }}\" }\n\n");
	}
	*len = b.len;
	return buf_steal(&b);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	uint64_t us[RUNS];
	size_t len;
	char *text = generate(&len);
	int i;

	for (i = 0; i < RUNS; i++) {
		struct cfg *c = NULL;
		struct diag d;
		uint64_t t0;

		diag_init(&d);
		t0 = ack_now_us();
		if (cfg_load_buffer("bench.toml", text, len, false, &c, &d) != 0) {
			diag_print(&d, stderr);
			fprintf(stderr, "bench_config: the generated config did not load\n");
			return 1;
		}
		us[i] = ack_now_us() - t0;
		if (c->naliases != NALIASES) {
			fprintf(stderr, "bench_config: %zu aliases loaded\n", c->naliases);
			return 1;
		}
		cfg_free(c);
		diag_free(&d);
	}
	qsort(us, RUNS, sizeof us[0], cmp_u64);
	printf("config load (parse + validate), %d aliases, %d users, %zu KiB: "
	    "median %.2f ms (min %.2f, max %.2f, %d runs)\n", NALIASES, NUSERS,
	    len / 1024, us[RUNS / 2] / 1000.0, us[0] / 1000.0, us[RUNS - 1] / 1000.0,
	    RUNS);
	free(text);
	return 0;
}
