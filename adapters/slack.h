/*
 * slack.h - the Slack adapter: Socket Mode (websocket) for events, the Web
 * API (HTTPS) for posts. See docs/slack.md for setting up the Slack app.
 *
 * Start: auth.test with the bot token (learns the bot's user id and bot
 * id), then apps.connections.open with the app-level token for a fresh,
 * single-use websocket URL, then the websocket; every later connection asks
 * for a new URL. Every envelope is acked as soon as it arrives, before any
 * work. Posts go through an ordered queue per channel that honours 429
 * Retry-After and retries 5xx and network errors; websocket reconnects do
 * not touch it.
 *
 * on_end exit codes:
 *   3  Slack refused the credentials (invalid_auth, not_authed,
 *      account_inactive, token_revoked, ... on auth.test,
 *      apps.connections.open or a post) or disabled the link
 *      (disconnect reason link_disabled: Socket Mode switched off);
 *   1  the bot could not start: Slack's TLS certificate could not be
 *      verified on the first call, or [slack].api_url does not answer
 *      like the Slack API.
 * Network failures never end the adapter: it retries, with backoff.
 *
 * Threads: every chat_event carries thread_id only when the message was in
 * a thread (its thread_ts); message_id is the message's ts, so the core's
 * reply_in_thread rule can thread replies under the command. A button
 * click (CHAT_ACTION) has the clicker's id from the payload, the channel,
 * the buttons' message ts as message_id and action_message_id, and the
 * thread of that message.
 *
 * Ownership: created by slack_adapter_new (which copies host); destroyed
 * through ops->stop. After the loop has ended, the program must call
 * ws_context_final_destroy() (adapters/ws.h) before uv_loop_close().
 */
#ifndef ACKBOT_SLACK_H
#define ACKBOT_SLACK_H

#include <stddef.h>

#include "adapters/adapter.h"

#define SLACK_EXIT_AUTH 3       /* refused credentials, link disabled */
#define SLACK_EXIT_START 1      /* cannot start (TLS, wrong api_url) */

/* Returns NULL with err filled if [slack] is unusable (a token missing). */
struct adapter *slack_adapter_new(const struct adapter_host *host, char *err,
    size_t errlen);

#endif
