// The state of this window's link to the hall server (hall mode only; always fine over IPC).
// `reachable` turns false when a request could not reach the server; `live` is the event
// connection. The layout shows a banner while either is down; both recover by themselves.
export const connection = $state<{ reachable: boolean; live: boolean }>({ reachable: true, live: true });
