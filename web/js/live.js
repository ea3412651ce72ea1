// A client of the graphql-transport-ws protocol for one subscription that resumes:
// after a drop it reconnects with backoff and subscribes again with the variables
// `variables()` gives then (the alert feed passes `after` = the last id it saw).

const PROTOCOL = "graphql-transport-ws";
// Close codes after which trying again cannot help (bad credentials, no such protocol).
const FATAL_CLOSE = new Map([
  [4401, "The live feed refused the sign-in; sign in again."],
  [4403, "The live feed refused the sign-in; sign in again."],
  [4406, "The server does not speak graphql-transport-ws."],
]);
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export class LiveSubscription {
  /**
   * onNext(data) for each result; onStatus(state, detail) with state "connecting",
   * "live" (detail: the variables subscribed with), "retrying" (detail: seconds),
   * "unavailable" or "stopped" (detail: why).
   */
  constructor({ url, query, variables, authorization, onNext, onStatus, isMissingApi }) {
    Object.assign(this, { url, query, variables, authorization, onNext, onStatus, isMissingApi });
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop(reason = "Stopped.") {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
    this.onStatus("stopped", reason);
  }

  connect() {
    this.onStatus("connecting");
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.send(socket, { type: "connection_init", payload: this.authorization() });
    });
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  send(socket, message) {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  receive(socket, raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      socket.close(4400, "Invalid message");
      return;
    }
    switch (message.type) {
      case "connection_ack": {
        this.attempt = 0;
        const variables = this.variables();
        this.send(socket, {
          id: "alerts",
          type: "subscribe",
          payload: { query: this.query, variables },
        });
        this.onStatus("live", variables);
        break;
      }
      case "ping":
        this.send(socket, { type: "pong" });
        break;
      case "next":
        if (message.payload?.errors?.length) this.failed(socket, message.payload.errors);
        else this.onNext(message.payload.data);
        break;
      case "error":
        this.failed(socket, message.payload || []);
        break;
      case "complete":
        // The server ended the stream (it restarts, or dropped a slow reader): resume.
        socket.close(1000, "resume");
        break;
      default:
        break;
    }
  }

  failed(socket, errors) {
    if (this.isMissingApi(errors)) {
      this.stopped = true;
      socket.close(1000, "unavailable");
      this.onStatus("unavailable", errors[0]?.message);
      return;
    }
    // Anything else (a slow subscriber cut off, a server error) is a drop: resume later.
    socket.close(1000, "resume");
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    if (this.stopped) return;
    if (FATAL_CLOSE.has(event.code)) {
      this.stopped = true;
      this.onStatus("stopped", event.reason || FATAL_CLOSE.get(event.code));
      return;
    }
    const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.attempt);
    // Jitter spreads the reconnects of many pages after a server restart.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.onStatus("retrying", Math.ceil(delay / 1000));
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
