/*
 * mattermost.h - the Mattermost adapter: WebSocket API v4 for events, REST
 * API v4 for posts (shared/protocols/mattermost.md; docs/mattermost.md).
 *
 * start: GET /api/v4/users/me with the bot token (who am I; a 401 ends the
 * bot), then the websocket /api/v4/websocket with "Authorization: Bearer" on
 * the upgrade. Every reconnection checks the token again the same way, then
 * resumes the connection (connection_id + sequence_number) so the server
 * replays what was missed; a fresh hello with a new id instead is logged as
 * possible loss. `posted` events become chat events; the bot's own posts,
 * other bots' (ignore_bots), system posts and edits are not delivered, and a
 * post delivered twice (a replay) runs once.
 *
 * Posts go through an ordered queue per channel (adapters/outq.h): POST
 * /api/v4/posts, PUT /api/v4/posts/{id}/patch for update; 429 waits for
 * Retry-After / X-RateLimit-Reset, 5xx and network errors are retried with
 * backoff, independently of the websocket. Buttons are not offered
 * (supports_buttons = false): confirmations are typed.
 *
 * Needs host->http (the shared HTTP client) and host->cfg->mattermost.
 * Ownership: created here, freed by ops->stop (see adapter.h). The program
 * must call ws_context_final_destroy() after uv_run() returns (ws.h).
 */
#ifndef ACKBOT_MATTERMOST_H
#define ACKBOT_MATTERMOST_H

#include <stddef.h>

#include "adapters/adapter.h"

/*
 * Creates the adapter (nothing connects before ops->start). Returns NULL
 * with err filled if [mattermost] is missing or unusable (no url, no token)
 * or host->http is NULL.
 */
struct adapter *mattermost_adapter_new(const struct adapter_host *host, char *err,
    size_t errlen);

#endif
