// Whether the session behind a page is still there. A refused websocket
// upgrade (401) looks like any failed connection, so a page that lost its
// socket asks the page itself before connecting again: "gone" (the session
// ended: log in again), "unknown" (the server cannot be reached), "ok".
export async function sessionState(page) {
  try {
    const response = await fetch(page, { redirect: "manual", cache: "no-store" });
    return response.type === "opaqueredirect" ? "gone" : "ok";
  } catch (e) {
    return "unknown";
  }
}

// Connect again while the session lasts: the login page when it ended, else
// connect(), retrying an unreachable server after state.retryMs, which
// doubles up to maxMs.
export async function reconnect(page, state, connect, maxMs) {
  const session = await sessionState(page);
  if (session === "gone") {
    location.assign("/login");
  } else if (session === "unknown") {
    setTimeout(() => reconnect(page, state, connect, maxMs), state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, maxMs);
  } else {
    connect();
  }
}
