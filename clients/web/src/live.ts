// Subscriptions over one websocket (graphql-ws, the graphql-transport-ws protocol).
//
// graphql-ws reconnects by itself after a dropped connection and sends each subscription
// again with the same payload object, so a subscription that keeps its cursor in
// `payload.variables.after` resumes from the last event it received. The server closes a
// socket with 4403 when its access token expires or is refused, or its session ended (the
// reason's first word says which): graphql-ws retries it, and connectionParams first renews
// the token. Where graphql-ws gives up, the subscription is started again here.

import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import {
  GraphQLRequestError,
  SessionEnded,
  type GraphQLErrorShape,
  type Session,
} from "./session";

export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting";

const PONG_TIMEOUT_MS = 8_000; // a socket that does not answer a ping is given up
const KEEP_ALIVE_MS = 15_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoff(attempt: number): number {
  return Math.min(500 * 2 ** attempt, 10_000) + Math.random() * 500;
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === "object" && value !== null && "code" in value && "reason" in value;
}

/** A close after which the next connection needs a renewed access token: 4403 (but for too
 * many sockets of this user, which a retry later solves), or 4401 of older servers. */
function wantsFreshToken(error: unknown): boolean {
  if (!isCloseEvent(error)) return false;
  if (error.code === 4401) return true;
  return error.code === 4403 && !error.reason.startsWith("TOO_MANY_CONNECTIONS");
}

function isForeground(): boolean {
  return document.visibilityState !== "hidden";
}

function websocketUrl(): string {
  const url = new URL("/graphql", window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

export class Live {
  readonly client: Client;
  state: ConnectionState = "idle";
  private active = 0;
  private stateListeners = new Set<(state: ConnectionState) => void>();
  private disposed = false;
  private socket: WebSocket | null = null;
  private readonly visibility = (): void => this.tellForeground();

  constructor(readonly session: Session) {
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    this.client = createClient({
      url: websocketUrl,
      connectionParams: async () => ({
        authorization: `Bearer ${await session.accessToken()}`,
        foreground: isForeground(),
      }),
      lazy: true,
      lazyCloseTimeout: 2_000,
      keepAlive: KEEP_ALIVE_MS,
      retryAttempts: Infinity,
      // graphql-ws retries a 4403 close by itself: the token expired or was refused, or
      // the session ended (logout, removal), so the retry asks for a fresh token first (a
      // session that has ended takes the app back to the sign-in form)
      shouldRetry: (error) => {
        if (wantsFreshToken(error)) session.expireAccessToken();
        return !this.disposed;
      },
      retryWait: (retries) => sleep(backoff(retries)),
      on: {
        connecting: (isRetry) => this.setState(isRetry ? "reconnecting" : "connecting"),
        connected: (socket) => {
          this.socket = socket as WebSocket;
          this.setState("live");
        },
        closed: () => {
          this.socket = null;
          clearTimeout(pongTimer);
          this.setState(this.active > 0 && !this.disposed ? "reconnecting" : "idle");
        },
        ping: (received) => {
          if (!received) pongTimer = setTimeout(() => this.client.terminate(), PONG_TIMEOUT_MS);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
      },
    });
    document.addEventListener("visibilitychange", this.visibility);
  }

  /** Tell the server whether this tab is in the foreground (a graphql-transport-ws ping
   * with a payload): while no client of a person is, the notifications they get are mailed. */
  private tellForeground(): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return; // the next connection says it
    this.socket.send(JSON.stringify({ type: "ping", payload: { foreground: isForeground() } }));
  }

  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  /** Start a subscription; `stop()` the returned handle when the view goes away. */
  subscribe<T>(query: string, variables: Record<string, unknown>, handlers: Handlers<T>): LiveSubscription<T> {
    return new LiveSubscription<T>(this, query, variables, handlers);
  }

  opened(): void {
    this.active += 1;
  }

  closed(): void {
    this.active -= 1;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    document.removeEventListener("visibilitychange", this.visibility);
    this.setState("idle");
    this.stateListeners.clear();
    try {
      await this.client.dispose();
    } catch {
      // a connection being made was refused or closed meanwhile: there is nothing to close
    }
  }
}

export interface Handlers<T> {
  next(data: T): void;
  /** The subscription ended with an error the view should show (NOT_FOUND, FORBIDDEN…). */
  error?(error: GraphQLRequestError): void;
  /** The cursor to resume from, for subscriptions that take `after`. */
  cursor?(data: T): string | undefined;
}

export class LiveSubscription<T> {
  private readonly payload: { query: string; variables: Record<string, unknown> };
  private dispose: (() => void) | null = null;
  private stopped = false;
  private attempts = 0;

  constructor(
    private readonly live: Live,
    query: string,
    variables: Record<string, unknown>,
    private readonly handlers: Handlers<T>,
  ) {
    this.payload = { query, variables: { ...variables } };
    live.opened();
    this.start();
  }

  /** Where a resumed subscription starts: every (re)subscription sends the latest value. */
  get after(): unknown {
    return this.payload.variables.after;
  }

  set after(cursor: unknown) {
    this.payload.variables.after = cursor;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.live.closed();
    this.dispose?.();
  }

  private start(): void {
    this.dispose = this.live.client.subscribe<T>(this.payload, {
      next: (result: ExecutionResult<T>) => {
        if (result.errors?.length && result.data == null) {
          this.failed([...result.errors] as unknown as GraphQLErrorShape[]);
          return;
        }
        this.attempts = 0;
        if (result.data == null) return;
        const cursor = this.handlers.cursor?.(result.data);
        if (cursor !== undefined) this.after = cursor;
        this.handlers.next(result.data);
      },
      error: (error: unknown) => this.failed(error),
      complete: () => {},
    });
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    if (error instanceof SessionEnded) return; // the app goes back to the sign-in form
    if (Array.isArray(error)) {
      const errors = error as GraphQLErrorShape[];
      const resume = errors.find((e) => e.extensions?.code === "RATE_LIMITED")?.extensions?.resumeAfter;
      if (typeof resume === "string") {
        this.after = resume; // we fell behind: pick up from where the server says
        this.restartLater();
        return;
      }
      if (errors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) {
        this.live.session.expireAccessToken();
        this.restartLater();
        return;
      }
      this.dispose = null;
      this.handlers.error?.(new GraphQLRequestError(errors));
      return;
    }
    if (wantsFreshToken(error)) {
      this.live.session.expireAccessToken(); // the next connection_init refreshes it first
    }
    this.restartLater();
  }

  private restartLater(): void {
    this.dispose?.();
    this.dispose = null;
    this.live.setState("reconnecting");
    const wait = this.attempts === 0 ? 100 : backoff(this.attempts);
    this.attempts += 1;
    setTimeout(() => {
      if (!this.stopped) this.start();
    }, wait);
  }
}
