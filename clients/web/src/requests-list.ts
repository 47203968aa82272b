// Lists of requests, kept up to date live: a contact's "My requests" (#/requests) with their
// status, next step and expected answer time, filtered by status or "waiting for me"; and
// staff's queue (#/queue/mine, unassigned, overdue, needs-info, open) where a request is
// assigned and its status changed in place. A new request, or a change to one, updates the
// list without moving focus; a new one in the queue is announced.

import ASSIGN_REQUEST from "../../operations/AssignRequest.graphql";
import CHANGE_REQUEST_STATUS from "../../operations/ChangeRequestStatus.graphql";
import REQUEST_EVENTS from "../../operations/RequestEvents.graphql";
import REQUESTS from "../../operations/Requests.graphql";
import { describe, failure, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { announce, field, focusOn, h, notice, replaceChildren, time } from "./dom";
import type { LiveSubscription } from "./live";
import {
  OPEN_STATUSES,
  REQUEST_STATUSES,
  requestStatusAction,
  requestStatusBadge,
  requestStatusLabel,
  slaLine,
  type RequestStatus,
  type RequestSummary,
} from "./requests";
import type { Connection } from "./types";

const PAGE_SIZE = 50;

export interface RequestEventData {
  requestEvents: {
    __typename: string;
    cursor: string;
    occurredAt?: string;
    actor?: { id: string; name: string } | null;
    request?: { id: string; number: string; title: string } | null;
  };
}

interface RequestsData {
  requests: Connection<RequestSummary>;
}

interface Filter {
  status?: RequestStatus[];
  assigneeId?: string;
  overdue?: boolean;
  needsMyAction?: boolean;
  unassigned?: boolean;
}

export type Queue = "mine" | "unassigned" | "overdue" | "needs-info" | "open";

const QUEUES: { key: Queue; label: string; empty: string }[] = [
  { key: "mine", label: "Assigned to me", empty: "Nothing is assigned to you." },
  { key: "unassigned", label: "Unassigned", empty: "Every open request has someone on it." },
  { key: "overdue", label: "Overdue", empty: "Nothing is overdue." },
  { key: "needs-info", label: "Needs information", empty: "No request is waiting for a customer." },
  { key: "open", label: "All open", empty: "There are no open requests." },
];

/** Refetch at most once per `wait` ms while events keep coming. */
function debounce(action: () => void, wait = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(action, wait);
  };
}

/** Which control had focus, by its request and role, to give it back after a rebuild. */
function focusKey(list: HTMLElement): string | null {
  const active = document.activeElement as HTMLElement | null;
  if (!active || !list.contains(active)) return null;
  const item = active.closest<HTMLElement>("[data-request-id]");
  return item ? `${item.dataset.requestId}|${active.dataset.action ?? ""}` : null;
}

function restoreFocus(list: HTMLElement, key: string | null): void {
  if (!key) return;
  const [id, action] = key.split("|");
  const item = list.querySelector<HTMLElement>(`[data-request-id="${CSS.escape(id ?? "")}"]`);
  if (!item) {
    focusOn(list);
    return;
  }
  focusOn(action ? (item.querySelector<HTMLElement>(`[data-action="${CSS.escape(action)}"]`) ?? item) : item);
}

/** One request in a list: the link, status, next step and expected answer time; for staff
 * the customer, the assignee and, in the queue, the quick actions. */
function requestItem(ctx: AppContext, request: RequestSummary, actions: HTMLElement | null): HTMLElement {
  const staff = isStaff(ctx.user);
  return h(
    "li",
    { class: "request-item", "data-request-id": request.id, "data-status": request.status },
    h(
      "div",
      { class: "request-line" },
      h("a", { href: link("requests", request.id), class: "request-link" }, h("span", { class: "reference" }, request.number), " ", request.title),
      requestStatusBadge(request.status),
    ),
    h(
      "p",
      { class: "request-meta muted" },
      request.type.name,
      staff ? ` · ${request.customer.name}` : "",
      staff && request.requester ? ` · from ${request.requester.name}` : "",
      " · ",
      request.assignee ? (request.assignee.id === ctx.user.id ? "assigned to you" : `with ${request.assignee.name}`) : "not assigned yet",
      " · updated ",
      time(request.updatedAt),
    ),
    request.nextStep ? h("p", { class: "next-step" }, h("strong", {}, "Next step: "), request.nextStep) : null,
    h("p", { class: "request-sla" }, slaLine(request, staff)),
    actions,
  );
}

/** A contact's own requests (and those they take part in; a lead contact's customer's). */
export function myRequestsView(ctx: AppContext, main: HTMLElement): View {
  return listView(ctx, main, null);
}

/** Staff's queue: `queue` picks which requests. */
export function queueView(ctx: AppContext, main: HTMLElement, queue: string): View {
  const known = QUEUES.find((entry) => entry.key === queue)?.key ?? "mine";
  return listView(ctx, main, known);
}

function listView(ctx: AppContext, main: HTMLElement, queue: Queue | null): View {
  const staff = isStaff(ctx.user);
  const title = queue ? "Request queue" : "My requests";
  const current = queue ? QUEUES.find((entry) => entry.key === queue)! : null;
  setTitle(current ? `${current.label} – ${title}` : title);
  let destroyed = false;
  let subscription: LiveSubscription<RequestEventData> | null = null;
  const list = h("ul", { class: "request-list", "aria-label": current ? current.label : "Your requests", tabindex: -1 });
  const count = h("p", { class: "muted", role: "status", "data-testid": "request-count" });
  const liveProblem = h("div");
  const more = h("div", { class: "more" });
  const shown = new Set<string>();
  let first = true;

  // the contact's filters: open ones (by default), all, one status; waiting for me
  const statusFilter = h(
    "select",
    { name: "status" },
    h("option", { value: "open" }, "Open"),
    h("option", { value: "all" }, "All"),
    REQUEST_STATUSES.map((status) => h("option", { value: status }, requestStatusLabel(status))),
  );
  const mine = h("input", { type: "checkbox", id: "needs-my-action", name: "needsMyAction" });
  const filters = queue
    ? h(
        "nav",
        { class: "queue-tabs", "aria-label": "Queues" },
        h(
          "ul",
          {},
          QUEUES.map((entry) =>
            h(
              "li",
              {},
              h("a", { href: link("queue", entry.key), "aria-current": entry.key === queue ? "page" : null }, entry.label),
            ),
          ),
        ),
      )
    : h(
        "form",
        { class: "filters row", "aria-label": "Filter requests", onsubmit: (event: Event) => event.preventDefault() },
        field("Status", statusFilter),
        h("div", { class: "check" }, mine, h("label", { for: "needs-my-action" }, "Only those waiting for me")),
      );
  statusFilter.addEventListener("change", () => void load());
  mine.addEventListener("change", () => void load());

  function filter(): Filter {
    if (queue === "mine") return { assigneeId: ctx.user.id, status: OPEN_STATUSES };
    if (queue === "unassigned") return { unassigned: true, status: OPEN_STATUSES };
    if (queue === "overdue") return { overdue: true, status: OPEN_STATUSES };
    if (queue === "needs-info") return { status: ["NEEDS_INFO"] };
    if (queue === "open") return { status: OPEN_STATUSES };
    const chosen = statusFilter.value;
    const result: Filter = {};
    if (chosen === "open") result.status = OPEN_STATUSES;
    else if (chosen !== "all") result.status = [chosen as RequestStatus];
    if (mine.checked) result.needsMyAction = true;
    return result;
  }

  const header = h(
    "header",
    { class: "page-header" },
    h("h1", { tabindex: -1 }, title),
    !staff ? h("a", { href: link("requests", "new"), class: "button" }, "New request") : null,
  );
  replaceChildren(main, header, filters, count, liveProblem, list, more);
  replaceChildren(count, "Loading…");
  focusOn(main.querySelector("h1"));

  async function load(after: string | null = null): Promise<void> {
    let data: RequestsData;
    try {
      data = await ctx.session.request<RequestsData>(REQUESTS, { filter: filter(), first: PAGE_SIZE, after });
    } catch (error) {
      if (destroyed) return;
      replaceChildren(
        liveProblem,
        failure(error, () => {
          replaceChildren(liveProblem);
          replaceChildren(count, "Loading…");
          focusOn(main.querySelector("h1"));
          void load();
        }),
      );
      replaceChildren(count);
      // a live refresh that fails says so without taking focus from where the reader is
      if (first) focusOn(liveProblem.querySelector<HTMLElement>(".retry"));
      return;
    }
    if (destroyed) return;
    replaceChildren(liveProblem);
    const requests = data.requests.edges.map((edge) => edge.node);
    const key = after ? null : focusKey(list);
    if (!after) {
      replaceChildren(list);
      shown.clear();
    }
    for (const request of requests) {
      if (shown.has(request.id)) continue;
      shown.add(request.id);
      list.append(requestItem(ctx, request, queue ? quickActions(request) : null));
    }
    const total = data.requests.totalCount ?? shown.size;
    replaceChildren(
      count,
      total === 0
        ? (current?.empty ?? (mine.checked ? "Nothing is waiting for you." : "No requests here yet."))
        : total === 1
          ? "1 request"
          : `${total} requests`,
    );
    showMore(data.requests.pageInfo);
    restoreFocus(list, key);
    if (first) {
      first = false;
      startLive();
    }
  }

  function showMore(pageInfo: { hasNextPage: boolean; endCursor: string | null } | undefined): void {
    if (!pageInfo?.hasNextPage || !pageInfo.endCursor) {
      replaceChildren(more);
      return;
    }
    const cursor = pageInfo.endCursor;
    replaceChildren(
      more,
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: async () => {
            const before = list.children.length;
            await load(cursor);
            focusOn(list.children[before] as HTMLElement | undefined);
          },
        },
        "Show more requests",
      ),
    );
  }

  const refresh = debounce(() => {
    if (!destroyed) void load();
  });

  function startLive(): void {
    subscription = ctx.live.subscribe<RequestEventData>(REQUEST_EVENTS, { after: null }, {
      next: ({ requestEvents: event }) => {
        refresh();
        const request = event.request;
        if (event.__typename === "RequestSubmitted" && request && event.actor?.id !== ctx.user.id && queue) {
          announce(`New request ${request.number}: ${request.title}`);
        }
      },
      cursor: ({ requestEvents: event }) => event.cursor,
      error: (error) => replaceChildren(liveProblem, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  /** In the queue: take it, or move it on, without opening it. */
  function quickActions(request: RequestSummary): HTMLElement {
    const feedback = h("div");
    const take =
      request.assignee?.id === ctx.user.id || request.closed
        ? null
        : h(
            "button",
            {
              type: "button",
              class: "secondary",
              "data-action": "take",
              "aria-label": `Assign to me: ${request.number}`,
              onclick: async () => {
                try {
                  await ctx.session.request(ASSIGN_REQUEST, { input: { requestId: request.id, assigneeId: ctx.user.id } });
                  announce(`${request.number} is assigned to you.`);
                  await load();
                } catch (error) {
                  replaceChildren(feedback, notice("error", describe(error)));
                }
              },
            },
            "Assign to me",
          );
    const allowed = request.allowedTransitions;
    let move: HTMLElement | null = null;
    if (allowed.length > 0) {
      const select = h(
        "select",
        { name: "status", "data-action": "status", "aria-label": `New status of ${request.number}` },
        allowed.map((status) => h("option", { value: status }, requestStatusAction(status))),
      );
      move = h(
        "form",
        {
          class: "row quick-status",
          "aria-label": `Change the status of ${request.number}`,
          onsubmit: async (event: Event) => {
            event.preventDefault();
            const status = select.value as RequestStatus;
            try {
              await ctx.session.request(CHANGE_REQUEST_STATUS, { input: { requestId: request.id, status, reason: "" } });
              announce(`${request.number} is now ${requestStatusLabel(status)}.`);
              await load();
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
              focusOn(feedback.firstElementChild as HTMLElement | null);
            }
          },
        },
        select,
        h("button", { type: "submit", class: "secondary", "data-action": "change" }, "Change"),
      );
    }
    return h("div", { class: "quick-actions" }, h("div", { class: "row" }, take, move), feedback);
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      subscription?.stop();
    },
  };
}
