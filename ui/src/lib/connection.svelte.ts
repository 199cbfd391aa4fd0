// The state of this window's link to the hall server (hall mode only; always fine over IPC).
// `reachable` turns false when a request could not reach the server; `live` is the event
// connection. The layout shows a banner while either is down; both recover by themselves.
// `unpaired`: a browser kiosk or display the server does not know (opened without its device
// token, or with a revoked one): nothing to reconnect to until it is paired, so the page says so.
export const connection = $state<{ reachable: boolean; live: boolean; unpaired: boolean }>({ reachable: true, live: true, unpaired: false });
