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
