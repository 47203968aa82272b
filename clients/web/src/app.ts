// What every view gets: the session, the live connection, and a way to tell the user that
// an error happened.

import { h, notice } from "./dom";
import type { Live } from "./live";
import { GraphQLRequestError, NetworkError, type Session } from "./session";
import type { SessionUser } from "./types";

export interface AppContext {
  session: Session;
  live: Live;
  user: SessionUser;
  /** Listeners told when the unread notification count changes. */
  onUnread(listener: (count: number) => void): () => void;
}

/** A mounted view: `destroy` stops its subscriptions. */
export interface View {
  destroy(): void;
}

export function isStaff(user: SessionUser): boolean {
  return user.role === "STAFF" || user.role === "ADMIN";
}

export function isNotFound(error: unknown): boolean {
  return error instanceof GraphQLRequestError && error.hasCode("NOT_FOUND");
}

/** A sentence for the user; the server's messages say what was wrong and what to do. */
export function describe(error: unknown): string {
  if (error instanceof GraphQLRequestError || error instanceof NetworkError) return error.message;
  return "Something went wrong. Please try again.";
}

export function link(path: string, ...ids: string[]): string {
  return `#/${path}${ids.map((id) => `/${encodeURIComponent(id)}`).join("")}`;
}

/** The tab's title for a view: `setTitle("Inbox (3)")` gives "Inbox (3) – Extranet". */
export function setTitle(...parts: string[]): void {
  document.title = [...parts.filter(Boolean), "Extranet"].join(" – ");
}

/** An error notice; where the server could not be reached, with a "Try again" button that
 * runs `retry` (which shows the view afresh, or the error again). */
export function failure(error: unknown, retry?: () => void): HTMLElement {
  const again =
    retry && error instanceof NetworkError
      ? h("button", { type: "button", class: "secondary retry", onclick: () => retry() }, "Try again")
      : null;
  return notice("error", describe(error), again ? " " : null, again);
}
