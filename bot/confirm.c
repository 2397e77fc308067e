/*
 * confirm.c - the confirmation tracker: pending requests by id (an open
 * addressing hash table with linear probing and backward-shift deletion) and
 * by expiry (a binary min-heap whose entries know their own index, so that
 * removing any entry is O(log n)).
 *
 * Memory: one allocation per entry holds the private header, the public
 * struct, the approver pointer arrays and every copied string. Approvals
 * received are a separate small array, allocated only when an approval is
 * counted without reaching the quorum. The table and the heap are arrays of
 * pointers (the table at most half full).
 */
#include "confirm.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ID_BITS 30u
#define ID_MASK ((1u << ID_BITS) - 1u)
#define ID_TRIES 64
#define MIN_SLOTS 64u
#define RAND_BLOCK 256

static const char id_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct centry {
	struct confirm_entry pub;       /* first: handed out as a pointer */
	uint64_t seq;                   /* insertion order, breaks expiry ties */
	uint32_t key;                   /* the id as 30 bits */
	uint32_t hidx;                  /* index in the heap */
	char **approved;                /* pub.approved, owned */
};

struct confirm {
	uint64_t (*now_ms)(void *);
	void *clock_arg;
	int (*id_source)(void *, uint32_t *);
	void *id_arg;
	size_t max_pending;

	struct centry **slots;          /* hash table, nslots a power of two */
	size_t nslots;
	size_t count;

	struct centry **heap;           /* min-heap by (expires_ms, seq) */
	size_t heapcap;

	uint64_t next_seq;
	unsigned char rbuf[RAND_BLOCK];
	size_t rpos;
};

/* ---- entries ------------------------------------------------------------ */

static struct centry *
to_centry(struct confirm_entry *e)
{
	return ACK_CONTAINER_OF(e, struct centry, pub);
}

static void
centry_free(struct centry *c)
{
	uint16_t i;

	if (c->pub.payload != NULL && c->pub.payload_free != NULL)
		c->pub.payload_free(c->pub.payload);
	for (i = 0; i < c->pub.napproved; i++)
		free(c->approved[i]);
	free(c->approved);
	free(c);
}

void
confirm_entry_free(struct confirm_entry *e)
{
	if (e != NULL)
		centry_free(to_centry(e));
}

static size_t
slen(const char *s)
{
	return s ? strlen(s) + 1 : 1;
}

/* Copies s (NULL as "") to *p and advances it. */
static const char *
scopy(char **p, const char *s)
{
	char *d = *p;
	size_t n = s ? strlen(s) : 0;

	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	*p = d + n + 1;
	return d;
}

static struct centry *
centry_build(const struct confirm_request *r, uint64_t now)
{
	const struct confirm_policy *pol = &r->policy;
	size_t na = pol->napprovers, ng = pol->napprover_groups;
	size_t size, i;
	struct centry *c;
	const char **ptrs;
	char *p;

	size = sizeof(*c) + (na + ng) * sizeof(char *);
	size += slen(r->requester.platform) + slen(r->requester.user_id) +
	    slen(r->requester.user) + slen(r->channel) +
	    (r->thread ? slen(r->thread) : 0) + slen(r->alias) + slen(r->what);
	for (i = 0; i < na; i++)
		size += slen(pol->approvers[i]);
	for (i = 0; i < ng; i++)
		size += slen(pol->approver_groups[i]);

	c = xmalloc(size);
	memset(c, 0, sizeof(*c));
	ptrs = (const char **)(void *)(c + 1);
	p = (char *)(ptrs + na + ng);

	c->pub.platform = scopy(&p, r->requester.platform);
	c->pub.user_id = scopy(&p, r->requester.user_id);
	c->pub.user = scopy(&p, r->requester.user);
	c->pub.channel = scopy(&p, r->channel);
	c->pub.thread = r->thread ? scopy(&p, r->thread) : NULL;
	c->pub.alias = scopy(&p, r->alias);
	c->pub.what = scopy(&p, r->what);
	for (i = 0; i < na; i++)
		ptrs[i] = scopy(&p, pol->approvers[i]);
	for (i = 0; i < ng; i++)
		ptrs[na + i] = scopy(&p, pol->approver_groups[i]);
	c->pub.approvers = na ? ptrs : NULL;
	c->pub.approver_groups = ng ? ptrs + na : NULL;
	c->pub.napprovers = (uint16_t)na;
	c->pub.napprover_groups = (uint16_t)ng;
	c->pub.allow_self = pol->allow_self;
	if (na + ng == 0)
		c->pub.needed = 1;
	else
		c->pub.needed = (uint16_t)(pol->approvals == 0 ? 1 :
		    pol->approvals > UINT16_MAX ? UINT16_MAX : pol->approvals);
	c->pub.created_ms = now;
	c->pub.expires_ms = r->timeout_ms > UINT64_MAX - now ? UINT64_MAX :
	    now + r->timeout_ms;
	c->pub.payload = r->payload;
	c->pub.payload_free = r->payload_free;
	return c;
}

/* ---- ids ---------------------------------------------------------------- */

/* The value of one id character, or -1. */
static int
id_digit(unsigned char ch)
{
	const char *p;

	if (ch >= 'a' && ch <= 'z')
		ch = (unsigned char)(ch - 'a' + 'A');
	if (ch == 'O')
		return 0;
	if (ch == 'I' || ch == 'L')
		return 1;
	if (ch == '\0' || (p = memchr(id_alphabet, ch, 32)) == NULL)
		return -1;
	return (int)(p - id_alphabet);
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool
id_decode(const char *s, uint32_t *key)
{
	uint32_t v = 0;
	size_t i;

	if (s == NULL)
		return false;
	while (is_blank(*s))
		s++;
	for (i = 0; i < CONFIRM_ID_LEN; i++) {
		int d = id_digit((unsigned char)s[i]);

		if (d < 0)
			return false;
		v = (v << 5) | (uint32_t)d;
	}
	for (s += CONFIRM_ID_LEN; *s; s++)
		if (!is_blank(*s))
			return false;
	*key = v;
	return true;
}

void
confirm_id_format(uint32_t v, char out[CONFIRM_ID_SIZE])
{
	int i;

	for (i = 0; i < CONFIRM_ID_LEN; i++)
		out[i] = id_alphabet[(v >> (5 * (CONFIRM_ID_LEN - 1 - i))) & 31u];
	memset(out + CONFIRM_ID_LEN, 0, CONFIRM_ID_SIZE - CONFIRM_ID_LEN);
}

bool
confirm_id_parse(const char *s, char out[CONFIRM_ID_SIZE])
{
	uint32_t v;

	if (!id_decode(s, &v))
		return false;
	confirm_id_format(v, out);
	return true;
}

static int
draw_random(struct confirm *t, uint32_t *v)
{
	if (t->id_source != NULL)
		return t->id_source(t->id_arg, v);
	if (t->rpos + sizeof(*v) > sizeof(t->rbuf)) {
		if (RAND_bytes(t->rbuf, (int)sizeof(t->rbuf)) != 1)
			return -1;
		t->rpos = 0;
	}
	memcpy(v, t->rbuf + t->rpos, sizeof(*v));
	/* Used bytes are not left lying around. */
	memset(t->rbuf + t->rpos, 0, sizeof(*v));
	t->rpos += sizeof(*v);
	return 0;
}

/* ---- hash table --------------------------------------------------------- */

static size_t
hash_key(uint32_t key, size_t mask)
{
	return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static struct centry *
table_find(const struct confirm *t, uint32_t key)
{
	size_t mask = t->nslots - 1, i = hash_key(key, mask);

	for (; t->slots[i] != NULL; i = (i + 1) & mask)
		if (t->slots[i]->key == key)
			return t->slots[i];
	return NULL;
}

static void
table_put(struct centry **slots, size_t nslots, struct centry *c)
{
	size_t mask = nslots - 1, i = hash_key(c->key, mask);

	while (slots[i] != NULL)
		i = (i + 1) & mask;
	slots[i] = c;
}

static void
table_resize(struct confirm *t, size_t nslots)
{
	struct centry **old = t->slots;
	size_t oldn = t->nslots, i;

	t->slots = xcalloc(nslots, sizeof(*t->slots));
	t->nslots = nslots;
	for (i = 0; i < oldn; i++)
		if (old[i] != NULL)
			table_put(t->slots, nslots, old[i]);
	free(old);
}

static void
table_insert(struct confirm *t, struct centry *c)
{
	if ((t->count + 1) * 2 > t->nslots)
		table_resize(t, t->nslots * 2);
	table_put(t->slots, t->nslots, c);
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void
table_delete(struct confirm *t, struct centry *c)
{
	size_t mask = t->nslots - 1, i = hash_key(c->key, mask), j;

	while (t->slots[i] != c)
		i = (i + 1) & mask;
	t->slots[i] = NULL;
	for (j = (i + 1) & mask; t->slots[j] != NULL; j = (j + 1) & mask) {
		size_t k = hash_key(t->slots[j]->key, mask);

		/* Move slots[j] into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

/* ---- heap --------------------------------------------------------------- */

static bool
earlier(const struct centry *a, const struct centry *b)
{
	if (a->pub.expires_ms != b->pub.expires_ms)
		return a->pub.expires_ms < b->pub.expires_ms;
	return a->seq < b->seq;
}

static void
heap_set(struct confirm *t, size_t i, struct centry *c)
{
	t->heap[i] = c;
	c->hidx = (uint32_t)i;
}

static void
sift_up(struct confirm *t, size_t i)
{
	struct centry *c = t->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!earlier(c, t->heap[parent]))
			break;
		heap_set(t, i, t->heap[parent]);
		i = parent;
	}
	heap_set(t, i, c);
}

static void
sift_down(struct confirm *t, size_t i, size_t n)
{
	struct centry *c = t->heap[i];

	for (;;) {
		size_t l = 2 * i + 1, m;

		if (l >= n)
			break;
		m = l + 1 < n && earlier(t->heap[l + 1], t->heap[l]) ? l + 1 : l;
		if (!earlier(t->heap[m], c))
			break;
		heap_set(t, i, t->heap[m]);
		i = m;
	}
	heap_set(t, i, c);
}

/* The heap holds exactly t->count entries. */
static void
heap_push(struct confirm *t, struct centry *c)
{
	t->heap = xgrow(t->heap, &t->heapcap, t->count + 1, sizeof(*t->heap));
	heap_set(t, t->count, c);
	sift_up(t, t->count);
}

/* Removes c from the heap, which holds n entries before the call. */
static void
heap_delete(struct confirm *t, struct centry *c, size_t n)
{
	size_t i = c->hidx;
	struct centry *last = t->heap[n - 1];

	n--;
	if (i == n)
		return;
	heap_set(t, i, last);
	if (i > 0 && earlier(last, t->heap[(i - 1) / 2]))
		sift_up(t, i);
	else
		sift_down(t, i, n);
}

/* Takes c out of both structures. */
static void
unlink_entry(struct confirm *t, struct centry *c)
{
	heap_delete(t, c, t->count);
	table_delete(t, c);
	t->count--;
	if (t->nslots > MIN_SLOTS && t->count * 8 < t->nslots)
		table_resize(t, t->nslots / 2);
	if (t->heapcap > MIN_SLOTS && t->count * 4 < t->heapcap) {
		t->heapcap /= 2;
		t->heap = xrealloc(t->heap, t->heapcap * sizeof(*t->heap));
	}
}

/* ---- tracker ------------------------------------------------------------ */

static uint64_t
default_clock(void *arg)
{
	(void)arg;
	return ack_now_ms();
}

struct confirm *
confirm_new(const struct confirm_opts *opts)
{
	struct confirm *t = xcalloc(1, sizeof(*t));

	t->now_ms = default_clock;
	if (opts != NULL) {
		if (opts->now_ms != NULL) {
			t->now_ms = opts->now_ms;
			t->clock_arg = opts->clock_arg;
		}
		t->id_source = opts->id_source;
		t->id_arg = opts->id_arg;
		t->max_pending = opts->max_pending;
	}
	if (t->max_pending == 0)
		t->max_pending = CONFIRM_DEFAULT_MAX;
	t->nslots = MIN_SLOTS;
	t->slots = xcalloc(t->nslots, sizeof(*t->slots));
	t->rpos = sizeof(t->rbuf);
	return t;
}

void
confirm_free(struct confirm *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nslots; i++)
		if (t->slots[i] != NULL)
			centry_free(t->slots[i]);
	free(t->slots);
	free(t->heap);
	OPENSSL_cleanse(t->rbuf, sizeof(t->rbuf));
	free(t);
}

size_t
confirm_count(const struct confirm *t)
{
	return t->count;
}

static int
gen_key(struct confirm *t, uint32_t *key, char *err, size_t errlen)
{
	int tries;

	for (tries = 0; tries < ID_TRIES; tries++) {
		uint32_t v;

		if (draw_random(t, &v) < 0)
			return ack_err(err, errlen,
			    "cannot draw a confirmation id: the random source failed");
		v &= ID_MASK;
		if (table_find(t, v) == NULL) {
			*key = v;
			return 0;
		}
	}
	return ack_err(err, errlen,
	    "no free confirmation id after %d tries (%zu pending)", ID_TRIES,
	    t->count);
}

int
confirm_gen_id(struct confirm *t, char out[CONFIRM_ID_SIZE])
{
	uint32_t key;

	if (gen_key(t, &key, NULL, 0) < 0)
		return -1;
	confirm_id_format(key, out);
	return 0;
}

int
confirm_add(struct confirm *t, const struct confirm_request *r,
    const struct confirm_entry **out, char *err, size_t errlen)
{
	struct centry *c;
	uint32_t key;

	if (out != NULL)
		*out = NULL;
	if (t->count >= t->max_pending)
		return ack_err(err, errlen,
		    "too many pending confirmations (%zu)", t->count);
	if (r->policy.napprovers > UINT16_MAX ||
	    r->policy.napprover_groups > UINT16_MAX)
		return ack_err(err, errlen, "too many approvers");
	if (gen_key(t, &key, err, errlen) < 0)
		return -1;
	c = centry_build(r, t->now_ms(t->clock_arg));
	c->key = key;
	c->seq = t->next_seq++;
	confirm_id_format(key, c->pub.id);
	table_insert(t, c);
	heap_push(t, c);
	t->count++;
	if (out != NULL)
		*out = &c->pub;
	return 0;
}

bool
confirm_next_deadline(const struct confirm *t, uint64_t *deadline_ms)
{
	if (t->count == 0)
		return false;
	*deadline_ms = t->heap[0]->pub.expires_ms;
	return true;
}

const struct confirm_entry *
confirm_get(const struct confirm *t, const char *id)
{
	uint32_t key;
	struct centry *c;

	if (!id_decode(id, &key) || (c = table_find(t, key)) == NULL)
		return NULL;
	if (t->now_ms(t->clock_arg) >= c->pub.expires_ms)
		return NULL;
	return &c->pub;
}

static int
cmp_expiry(const void *a, const void *b)
{
	const struct centry *x = *(struct centry *const *)a;
	const struct centry *y = *(struct centry *const *)b;

	if (earlier(x, y))
		return -1;
	return earlier(y, x) ? 1 : 0;
}

size_t
confirm_expire_due(struct confirm *t, confirm_entry_cb cb, void *arg)
{
	uint64_t now = t->now_ms(t->clock_arg);
	struct centry **due = NULL;
	size_t n = 0, cap = 0, i;

	/* Take them all out first so that cb may call into the tracker. */
	while (t->count > 0 && t->heap[0]->pub.expires_ms <= now) {
		struct centry *c = t->heap[0];

		unlink_entry(t, c);
		due = xgrow(due, &cap, n + 1, sizeof(*due));
		due[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (cb != NULL)
			cb(&due[i]->pub, arg);
		centry_free(due[i]);
	}
	free(due);
	return n;
}

size_t
confirm_remove_if(struct confirm *t,
    bool (*pred)(const struct confirm_entry *e, void *arg),
    confirm_entry_cb cb, void *arg)
{
	struct centry **hit = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < t->nslots; i++) {
		struct centry *c = t->slots[i];

		if (c != NULL && pred(&c->pub, arg)) {
			hit = xgrow(hit, &cap, n + 1, sizeof(*hit));
			hit[n++] = c;
		}
	}
	for (i = 0; i < n; i++)
		unlink_entry(t, hit[i]);
	if (n > 1)
		qsort(hit, n, sizeof(*hit), cmp_expiry);
	for (i = 0; i < n; i++) {
		if (cb != NULL)
			cb(&hit[i]->pub, arg);
		centry_free(hit[i]);
	}
	free(hit);
	return n;
}

/* ---- who may do what ---------------------------------------------------- */

static bool
streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The requester's own chat identity. */
static bool
is_exact(const struct centry *c, const struct confirm_who *w)
{
	return streq(c->pub.platform, w->platform) &&
	    streq(c->pub.user_id, w->user_id);
}

/* The requester, or another chat identity of the same canonical user. */
static bool
is_same_user(const struct centry *c, const struct confirm_who *w)
{
	return is_exact(c, w) ||
	    (w->user != NULL && *w->user != '\0' && streq(c->pub.user, w->user));
}

static bool
has_approvers(const struct centry *c)
{
	return c->pub.napprovers + c->pub.napprover_groups > 0;
}

static bool
is_listed_approver(const struct centry *c, const struct confirm_who *w)
{
	size_t i, j;

	/* Approvals are counted per canonical name: no name, no approval. */
	if (w->user == NULL || *w->user == '\0')
		return false;
	for (i = 0; i < c->pub.napprovers; i++)
		if (strcmp(c->pub.approvers[i], w->user) == 0)
			return true;
	for (i = 0; i < c->pub.napprover_groups; i++)
		for (j = 0; j < w->ngroups; j++)
			if (w->groups[j] != NULL &&
			    strcmp(c->pub.approver_groups[i], w->groups[j]) == 0)
				return true;
	return false;
}

static bool
has_approved(const struct centry *c, const char *user)
{
	uint16_t i;

	for (i = 0; i < c->pub.napproved; i++)
		if (strcmp(c->approved[i], user) == 0)
			return true;
	return false;
}

/*
 * The steps common to approve/deny/cancel: find the id, expire it if due,
 * check the channel. Returns the entry (or NULL with *res set).
 */
static struct centry *
lookup(struct confirm *t, const char *id, const struct confirm_who *who,
    const char *channel, struct confirm_entry **out, enum confirm_result *res)
{
	uint32_t key;
	struct centry *c;

	*out = NULL;
	if (!id_decode(id, &key) || (c = table_find(t, key)) == NULL) {
		*res = CONFIRM_NOT_FOUND;
		return NULL;
	}
	if (t->now_ms(t->clock_arg) >= c->pub.expires_ms) {
		unlink_entry(t, c);
		*out = &c->pub;
		*res = CONFIRM_EXPIRED;
		return NULL;
	}
	if (!streq(c->pub.platform, who->platform) ||
	    !streq(c->pub.channel, channel)) {
		*res = CONFIRM_WRONG_CHANNEL;
		return NULL;
	}
	return c;
}

static enum confirm_result
hand_out(struct confirm *t, struct centry *c, struct confirm_entry **out,
    enum confirm_result res)
{
	unlink_entry(t, c);
	*out = &c->pub;
	return res;
}

enum confirm_result
confirm_approve(struct confirm *t, const char *id,
    const struct confirm_who *who, const char *channel,
    struct confirm_entry **out)
{
	enum confirm_result res;
	struct centry *c;
	const char *name;

	if ((c = lookup(t, id, who, channel, out, &res)) == NULL)
		return res;
	if (!has_approvers(c))
		return is_exact(c, who) ? hand_out(t, c, out, CONFIRM_READY) :
		    CONFIRM_NOT_ALLOWED;
	if (is_exact(c, who)) {
		if (!c->pub.allow_self)
			return CONFIRM_SELF_NOT_ALLOWED;
		name = c->pub.user;
	} else if (is_same_user(c, who)) {
		return CONFIRM_SELF_NOT_ALLOWED;
	} else if (is_listed_approver(c, who)) {
		name = who->user;
	} else {
		return CONFIRM_NOT_ALLOWED;
	}
	if (has_approved(c, name))
		return CONFIRM_DUPLICATE;
	/* Recorded also on the last one, so that the entry handed out lists
	 * everyone who approved. */
	c->approved = xrealloc(c->approved,
	    ((size_t)c->pub.napproved + 1) * sizeof(*c->approved));
	c->approved[c->pub.napproved++] = xstrdup(name);
	c->pub.approved = (const char *const *)c->approved;
	if (c->pub.napproved >= c->pub.needed)
		return hand_out(t, c, out, CONFIRM_READY);
	return CONFIRM_APPROVED_MORE_NEEDED;
}

enum confirm_result
confirm_deny(struct confirm *t, const char *id, const struct confirm_who *who,
    const char *channel, struct confirm_entry **out)
{
	enum confirm_result res;
	struct centry *c;

	if ((c = lookup(t, id, who, channel, out, &res)) == NULL)
		return res;
	if (is_exact(c, who) ||
	    (!is_same_user(c, who) && is_listed_approver(c, who)))
		return hand_out(t, c, out, CONFIRM_DENIED);
	return CONFIRM_NOT_ALLOWED;
}

enum confirm_result
confirm_cancel(struct confirm *t, const char *id, const struct confirm_who *who,
    const char *channel, struct confirm_entry **out)
{
	enum confirm_result res;
	struct centry *c;

	if ((c = lookup(t, id, who, channel, out, &res)) == NULL)
		return res;
	if (!is_exact(c, who))
		return CONFIRM_NOT_ALLOWED;
	return hand_out(t, c, out, CONFIRM_CANCELED);
}

/* ---- listing ------------------------------------------------------------ */

static size_t
list_matching(const struct confirm *t,
    bool (*match)(const struct centry *, const void *), const void *arg,
    confirm_view_cb cb, void *cbarg)
{
	uint64_t now = t->now_ms(t->clock_arg);
	struct centry **hit = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < t->nslots; i++) {
		struct centry *c = t->slots[i];

		if (c != NULL && now < c->pub.expires_ms && match(c, arg)) {
			hit = xgrow(hit, &cap, n + 1, sizeof(*hit));
			hit[n++] = c;
		}
	}
	if (n > 1)
		qsort(hit, n, sizeof(*hit), cmp_expiry);
	for (i = 0; i < n; i++)
		if (cb != NULL)
			cb(&hit[i]->pub, cbarg);
	free(hit);
	return n;
}

static bool
match_requester(const struct centry *c, const void *arg)
{
	return is_exact(c, arg);
}

size_t
confirm_list_for(const struct confirm *t, const char *platform,
    const char *user_id, confirm_view_cb cb, void *arg)
{
	struct confirm_who w = { .platform = platform, .user_id = user_id };

	return list_matching(t, match_requester, &w, cb, arg);
}

static bool
match_awaiting(const struct centry *c, const void *arg)
{
	const struct confirm_who *w = arg;

	return has_approvers(c) && streq(c->pub.platform, w->platform) &&
	    !is_same_user(c, w) && is_listed_approver(c, w) &&
	    !has_approved(c, w->user);
}

size_t
confirm_list_awaiting(const struct confirm *t, const struct confirm_who *who,
    confirm_view_cb cb, void *arg)
{
	return list_matching(t, match_awaiting, who, cb, arg);
}

const char *
confirm_result_name(enum confirm_result r)
{
	switch (r) {
	case CONFIRM_NOT_FOUND: return "not_found";
	case CONFIRM_EXPIRED: return "expired";
	case CONFIRM_WRONG_CHANNEL: return "wrong_channel";
	case CONFIRM_NOT_ALLOWED: return "not_allowed";
	case CONFIRM_SELF_NOT_ALLOWED: return "self_not_allowed";
	case CONFIRM_DUPLICATE: return "duplicate";
	case CONFIRM_APPROVED_MORE_NEEDED: return "approved_more_needed";
	case CONFIRM_READY: return "ready";
	case CONFIRM_DENIED: return "denied";
	case CONFIRM_CANCELED: return "canceled";
	}
	return "unknown";
}
