/*
 * confirm.h - the confirmation tracker: requests waiting for a `confirm ID`
 * (or for approvals) before they run.
 *
 * The tracker is pure: no libuv, no chat, no config. It keeps pending entries
 * in a hash table by id and in a min-heap of expiries, and takes an injected
 * clock. The router drives it with ONE uv_timer_t:
 *
 *     static uint64_t clock_cb(void *arg) { return uv_now(arg); }
 *     t = confirm_new(&(struct confirm_opts){ .now_ms = clock_cb,
 *         .clock_arg = loop });
 *
 *     static void rearm(void) {          call after every add/approve/...
 *         uint64_t at, now = uv_now(loop);
 *         if (confirm_next_deadline(t, &at))
 *             uv_timer_start(&timer, on_timer, at > now ? at - now : 0, 0);
 *         else
 *             uv_timer_stop(&timer);
 *     }
 *     static void on_timer(uv_timer_t *h) {
 *         confirm_expire_due(t, tell_requester_nothing_ran, NULL);
 *         rearm();
 *     }
 *
 * The clock must be the one the timer runs on (uv_now), so that a timer that
 * fires finds its entries due. Entries are also checked against the clock on
 * every lookup: one that is past its expiry but whose timer has not fired yet
 * is treated as expired (CONFIRM_EXPIRED), never confirmed.
 *
 * Who may act on an entry (all comparisons are exact and case-sensitive):
 *   - the requester is the chat identity (platform + user id) that asked;
 *     "same user" also covers another chat identity with the same canonical
 *     name (an alt account, or another unknown speaker mapped to the guest
 *     name);
 *   - with no approvers (both lists empty) only the requester may confirm,
 *     and one confirmation is enough, whatever allow_self and approvals say;
 *   - with approvers, a confirmation from the requester counts as one
 *     approval only if allow_self; a same-user-other-identity never counts;
 *     anyone else must be listed by canonical name or belong to a listed
 *     group; approvals are counted per distinct canonical name;
 *   - every action must come from the entry's platform and channel.
 *
 * Ids are 6 characters of Crockford's base32 alphabet
 * 0123456789ABCDEFGHJKMNPQRSTVWXYZ (30 random bits from RAND_bytes), unique
 * among pending entries. Input is read case-insensitively, with O read as 0
 * and I/L as 1.
 *
 * Ownership: confirm_new returns a tracker freed by confirm_free, which also
 * frees every pending entry's payload. An entry that leaves the tracker
 * through confirm_approve/deny/cancel (READY, DENIED, CANCELED, EXPIRED) is
 * handed to the caller through *out; the caller frees it with
 * confirm_entry_free, which calls payload_free(payload) unless the caller
 * took the payload by setting e->payload = NULL. Entries passed to the
 * callbacks of confirm_expire_due and confirm_remove_if are freed by the
 * tracker after the callback returns (the same payload rule applies). All
 * other pointers to entries are borrowed and valid only until the next call
 * that changes the tracker.
 */
#ifndef ACKBOT_CONFIRM_H
#define ACKBOT_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIRM_ID_LEN 6
#define CONFIRM_ID_SIZE 8               /* CONFIRM_ID_LEN + NUL, padded */
#define CONFIRM_DEFAULT_MAX 1000000     /* pending entries, when max_pending is 0 */

struct confirm;

/* A chat speaker as the router resolved it. */
struct confirm_who {
	const char *platform;           /* "slack", "mattermost", "console" */
	const char *user_id;            /* chat user id */
	const char *user;               /* canonical user name (non-NULL) */
	const char *const *groups;      /* the canonical user's groups */
	size_t ngroups;
};

/* The approval settings of an alias (from struct cfg_confirm). */
struct confirm_policy {
	const char *const *approvers;   /* canonical user names */
	size_t napprovers;
	const char *const *approver_groups;
	size_t napprover_groups;
	bool allow_self;                /* the requester's confirm counts as an approval */
	uint32_t approvals;             /* distinct approvals needed; 0 = 1 */
};

/* What confirm_add copies into a new entry. */
struct confirm_request {
	struct confirm_who requester;   /* groups are not kept */
	const char *channel;
	const char *thread;             /* may be NULL */
	const char *alias;
	const char *what;               /* human-readable "what will run" */
	uint64_t timeout_ms;            /* from now; the caller resolves defaults */
	struct confirm_policy policy;   /* zeroed = only the requester, once */
	void *payload;                  /* the resolved parameters, opaque */
	void (*payload_free)(void *);   /* NULL = nothing to free */
};

/*
 * A pending confirmation. Read-only to the caller except for payload (see
 * Ownership above). Strings are owned by the entry.
 */
struct confirm_entry {
	char id[CONFIRM_ID_SIZE];
	const char *platform, *user_id, *user;  /* the requester */
	const char *channel;
	const char *thread;                     /* NULL if none */
	const char *alias;
	const char *what;
	uint64_t created_ms, expires_ms;        /* injected clock's time base */
	const char *const *approvers;           /* NULL when napprovers == 0 */
	const char *const *approver_groups;
	uint16_t napprovers, napprover_groups;
	uint16_t needed;                        /* distinct approvals needed, >= 1 */
	uint16_t napproved;
	bool allow_self;
	const char *const *approved;            /* canonical names, in order */
	void *payload;
	void (*payload_free)(void *);
};

enum confirm_result {
	CONFIRM_NOT_FOUND,              /* no such id: never existed, or already used */
	CONFIRM_EXPIRED,                /* past expiry: removed, *out set */
	CONFIRM_WRONG_CHANNEL,          /* not from the entry's platform and channel */
	CONFIRM_NOT_ALLOWED,            /* not the requester nor an approver */
	CONFIRM_SELF_NOT_ALLOWED,       /* the requester (or same user), self-approval off */
	CONFIRM_DUPLICATE,              /* this canonical user already approved */
	CONFIRM_APPROVED_MORE_NEEDED,   /* counted; still pending (confirm_get for counts) */
	CONFIRM_READY,                  /* quorum reached: removed, *out set */
	CONFIRM_DENIED,                 /* confirm_deny: removed, *out set */
	CONFIRM_CANCELED,               /* confirm_cancel: removed, *out set */
};

/* "not_found", "expired", ... for logs and the audit trail. */
const char *confirm_result_name(enum confirm_result r);

struct confirm_opts {
	/* The clock; NULL = ack_now_ms. */
	uint64_t (*now_ms)(void *arg);
	void *clock_arg;
	/*
	 * The id source: stores a value in *out (only the low 30 bits are used)
	 * and returns 0, or returns -1 on failure. NULL = OpenSSL RAND_bytes
	 * (read ahead in blocks). Tests inject one to force collisions.
	 */
	int (*id_source)(void *arg, uint32_t *out);
	void *id_arg;
	size_t max_pending;             /* hard maximum; 0 = CONFIRM_DEFAULT_MAX */
};

/* Returns a new tracker (opts may be NULL); the caller frees it with
 * confirm_free. */
struct confirm *confirm_new(const struct confirm_opts *opts);
/* Frees every pending entry (calling payload_free) and the tracker. */
void confirm_free(struct confirm *t);

/*
 * Adds a pending confirmation, copying every string of r, and sets *out (if
 * out is not NULL) to the new entry (borrowed). Returns 0, or -1 with a
 * message (tracker full, id source failed, no free id after repeated
 * collisions); on failure the payload stays the caller's.
 */
int confirm_add(struct confirm *t, const struct confirm_request *r,
    const struct confirm_entry **out, char *err, size_t errlen);

/*
 * `confirm ID` (or a button click) from who in channel. *out is set to the
 * removed entry for READY and EXPIRED, and to NULL otherwise.
 */
enum confirm_result confirm_approve(struct confirm *t, const char *id,
    const struct confirm_who *who, const char *channel,
    struct confirm_entry **out);
/* An approver (or the requester) says no: DENIED, the entry is removed and
 * handed back in *out. Same checks as approve, except self-approval rules. */
enum confirm_result confirm_deny(struct confirm *t, const char *id,
    const struct confirm_who *who, const char *channel,
    struct confirm_entry **out);
/* `cancel ID`: only the requester's own chat identity: CANCELED, *out set. */
enum confirm_result confirm_cancel(struct confirm *t, const char *id,
    const struct confirm_who *who, const char *channel,
    struct confirm_entry **out);

/* Frees an entry handed out by approve/deny/cancel (NULL is fine). */
void confirm_entry_free(struct confirm_entry *e);

/* The pending entry with that id, or NULL (also NULL once its expiry has
 * passed). Borrowed. */
const struct confirm_entry *confirm_get(const struct confirm *t, const char *id);
size_t confirm_count(const struct confirm *t);

/*
 * The earliest expiry among pending entries, in the clock's time base: true
 * and *deadline_ms set, or false when nothing is pending.
 */
bool confirm_next_deadline(const struct confirm *t, uint64_t *deadline_ms);

typedef void (*confirm_entry_cb)(struct confirm_entry *e, void *arg);

/*
 * Removes every entry whose expiry is <= now, in expiry order (ties in the
 * order they were added), calling cb for each after it has left the tracker
 * (so cb may call into the tracker). Returns how many expired.
 */
size_t confirm_expire_due(struct confirm *t, confirm_entry_cb cb, void *arg);

/*
 * Removes every entry for which pred is true (for a config reload: the alias
 * is gone), calling cb (may be NULL) for each in expiry order once all have
 * been taken out. pred must not change the tracker. Returns how many.
 */
size_t confirm_remove_if(struct confirm *t,
    bool (*pred)(const struct confirm_entry *e, void *arg),
    confirm_entry_cb cb, void *arg);

typedef void (*confirm_view_cb)(const struct confirm_entry *e, void *arg);

/*
 * Calls cb, in expiry order, for each unexpired entry requested by this chat
 * identity (for `pending`). O(n) in all pending entries. cb must not change
 * the tracker. Returns how many.
 */
size_t confirm_list_for(const struct confirm *t, const char *platform,
    const char *user_id, confirm_view_cb cb, void *arg);
/* The same for the entries who could approve now (an approver who has not
 * approved yet, on the same platform; the requester's own are left out). */
size_t confirm_list_awaiting(const struct confirm *t,
    const struct confirm_who *who, confirm_view_cb cb, void *arg);

/*
 * Id helpers. confirm_id_parse normalizes user input (case, O->0, I/L->1,
 * surrounding blanks) into out and returns true if it is a well-formed id.
 * confirm_gen_id draws an id that no pending entry uses (without reserving
 * it); 0 or -1 if the source fails.
 */
bool confirm_id_parse(const char *s, char out[CONFIRM_ID_SIZE]);
int confirm_gen_id(struct confirm *t, char out[CONFIRM_ID_SIZE]);
/* Formats the low 30 bits of v as an id (for tests with injected sources). */
void confirm_id_format(uint32_t v, char out[CONFIRM_ID_SIZE]);

#endif
