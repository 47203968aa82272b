// The inbox: what watches and mentions produced for me, newest first, with read state, and
// older ones page by page. A new notification (or one read elsewhere) changes the list in
// place: nothing is rebuilt, so focus and the reading position stay where they were.

import INBOX from "../../operations/Inbox.graphql";
import MARK_NOTIFICATIONS_READ from "../../operations/MarkNotificationsRead.graphql";
import { failure, link, setTitle, type AppContext, type View } from "./app";
import { announce, focusOn, h, replaceChildren, serverHtml, shortTime, statusBadge, time } from "./dom";
import { requestStatusBadge } from "./requests";
import type { InboxData, RequestNotificationEvent } from "./types";

type Item = InboxData["notifications"]["edges"][number]["node"];

const PAGE_SIZE = 30;

const REASONS: Record<Item["reason"], string> = {
  MENTIONED: "Mentioned you",
  REPLIED: "Replied to you",
  PARTICIPATING: "Participating",
  WATCHING: "Watching",
};

interface Described {
  what: (Node | string)[];
  excerpt: HTMLElement | null;
  href: string | null;
  /** What "Open" opens, for its accessible name: "Anna's post of 12 May". */
  target: string;
}

function describeEvent(item: Item): Described {
  const event = item.event;
  const project = event.project;
  const where = project ? ` in ${project.name}` : "";
  const projectHref = project ? link("projects", project.id) : null;
  const actor = event.actor?.name ?? "Someone";
  const when = shortTime(event.occurredAt ?? item.createdAt);
  switch (event.__typename) {
    case "MicropostPosted":
    case "MicropostEdited": {
      const page = event.micropost?.page;
      const verb = event.__typename === "MicropostPosted" ? (page ? "commented on" : "posted") : "edited a post";
      return {
        what: page && event.__typename === "MicropostPosted" ? [`${verb} the page “${page.title}”${where}`] : [`${verb}${where}`],
        excerpt: event.micropost ? serverHtml("markdown excerpt", event.micropost.bodyHtml) : null,
        href: event.micropost ? link("posts", event.micropost.id) : projectHref,
        target: event.micropost ? `${actor}'s post of ${when}` : (project?.name ?? "the project"),
      };
    }
    case "ProjectStatusChanged":
      return {
        what: [`changed the status${where} from `, statusBadge(event.fromStatus), " to ", statusBadge(event.toStatus)],
        excerpt: null,
        href: projectHref,
        target: `${project?.name ?? "the project"}, status change of ${when}`,
      };
    case "PageCreated":
      return {
        what: [`created the page “${event.page?.title ?? "?"}”${where}`],
        excerpt: null,
        href: event.page ? link("pages", event.page.id) : projectHref,
        target: `the page ${event.page?.title ?? ""}`.trim(),
      };
    case "PageUpdated":
      return {
        what: [`updated “${event.page?.title ?? "?"}” to revision ${event.revision}${where}`],
        excerpt: null,
        href: event.page ? link("pages", event.page.id) : projectHref,
        target: `the page ${event.page?.title ?? ""}, revision ${event.revision}`,
      };
    case "RequestSubmitted":
    case "RequestStatusChanged":
    case "RequestAssigned":
    case "RequestReplied":
    case "RequestDocumentAdded":
    case "RequestDueDateChanged":
    case "RequestParticipantAdded":
    case "RequestSlaWarning":
    case "RequestSlaBreached":
    case "RequestReminded":
      return describeRequestEvent(event, when);
    default:
      return { what: ["something happened"], excerpt: null, href: projectHref, target: project?.name ?? "the project" };
  }
}

/** What happened to a request, in the words of the inbox. */
function describeRequestEvent(event: RequestNotificationEvent, when: string): Described {
  const request = event.request;
  const name = request ? `${request.number} “${request.title}”` : "a request";
  const target = request ? `request ${request.number}, ${event.__typename === "RequestReplied" ? "reply" : "change"} of ${when}` : "the request";
  const href = request ? link("requests", request.id) : null;
  const say = (...what: (Node | string)[]): Described => ({ what, excerpt: null, href, target });
  switch (event.__typename) {
    case "RequestSubmitted":
      return say(`submitted ${name}`);
    case "RequestStatusChanged":
      return say(`moved ${name} from `, requestStatusBadge(event.requestFrom), " to ", requestStatusBadge(event.requestTo));
    case "RequestReplied":
      return { ...say(`replied on ${name}`), excerpt: event.message ? serverHtml("markdown excerpt", event.message.bodyHtml) : null };
    case "RequestAssigned":
      return say(`assigned ${name}`);
    case "RequestDocumentAdded":
      return say(`sent a document for ${name}`);
    case "RequestDueDateChanged":
      return say(`changed the due date of ${name}`);
    case "RequestParticipantAdded":
      return say(`added a participant to ${name}`);
    case "RequestSlaWarning":
      return say(`(SLA warning): ${name} is about to miss its answer time`);
    case "RequestSlaBreached":
      return say(`(SLA breached): ${name} missed its answer time`);
    case "RequestReminded":
      return say(`(reminder): ${name} is waiting for your answer`);
  }
}

interface Shown {
  item: Item;
  li: HTMLLIElement;
  open: HTMLAnchorElement | null;
  unreadTag: HTMLElement;
  markButton: HTMLButtonElement;
}

let excerpts = 0;

export function inboxView(ctx: AppContext, main: HTMLElement): View {
  const list = h("ol", { class: "inbox", "aria-label": "Notifications, newest first" });
  const summary = h("p", { class: "muted", tabindex: -1 });
  const feedback = h("div");
  const more = h("div", { class: "more" });
  const markAll = h("button", { type: "button", class: "secondary" }, "Mark all as read");
  const shown = new Map<string, Shown>();
  let destroyed = false;
  let unreadCount = 0;
  let total = 0;
  let loaded = false;

  setTitle("Inbox");
  replaceChildren(
    main,
    h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, "Inbox"), markAll),
    summary,
    feedback,
    list,
    more,
  );
  main.querySelector("h1")?.focus();
  replaceChildren(summary, "Loading…");
  markAll.hidden = true;

  function setUnread(count: number): void {
    unreadCount = count;
    setTitle(count ? `Inbox (${count})` : "Inbox");
    if (!loaded) return;
    replaceChildren(
      summary,
      shown.size === 0
        ? "Nothing here yet: watch a project or page to hear of it."
        : count
          ? `${count} unread of ${total}`
          : `No unread notifications (${total} in all).`,
    );
    markAll.hidden = count === 0;
  }

  function setRead(entry: Shown, read: boolean): void {
    const wasUnread = entry.item.readAt === null;
    if (wasUnread === !read) return;
    entry.item = { ...entry.item, readAt: read ? new Date().toISOString() : null };
    entry.li.classList.toggle("unread", !read);
    entry.unreadTag.hidden = read;
    entry.markButton.hidden = read;
  }

  function render(item: Item): Shown {
    const { what, excerpt, href, target } = describeEvent(item);
    const unread = item.readAt === null;
    const open = href ? h("a", { href, "aria-label": `Open ${target}` }, "Open") : null;
    const markButton = h(
      "button",
      { type: "button", class: "link", "aria-label": `Mark as read: ${target}` },
      "Mark as read",
    );
    const unreadTag = h("span", { class: "tag unread-tag" }, "Unread");
    const li = h(
      "li",
      { class: unread ? "notification unread" : "notification", "data-notification-id": item.id },
      h(
        "div",
        {},
        h("span", { class: "tag" }, REASONS[item.reason]),
        unreadTag,
        " ",
        h("strong", {}, item.event.actor?.name ?? ""),
        " ",
        ...what,
      ),
      excerpt ? excerptWithMore(excerpt, target) : null,
      h("div", { class: "row" }, time(item.createdAt), open, markButton),
    );
    const entry: Shown = { item, li, open, unreadTag, markButton };
    unreadTag.hidden = !unread;
    markButton.hidden = !unread;
    markButton.addEventListener("click", () => void mark([item.id], entry));
    open?.addEventListener("click", () => {
      if (entry.item.readAt === null) void mark([item.id], null);
    });
    shown.set(item.id, entry);
    return entry;
  }

  /** A clamped excerpt; "Show more" where the text goes on beyond what shows, its name
   * saying of what (`target`), as there is one on each long notification. */
  function excerptWithMore(excerpt: HTMLElement, target: string): HTMLElement {
    excerpt.id = `excerpt-${++excerpts}`;
    excerpt.classList.add("clamped");
    const toggle = h(
      "button",
      {
        type: "button",
        class: "link more-toggle",
        "aria-expanded": "false",
        "aria-controls": excerpt.id,
        "aria-label": `Show more of ${target}`,
        hidden: true,
      },
      "Show more",
    );
    toggle.addEventListener("click", () => {
      const expanded = toggle.getAttribute("aria-expanded") === "true";
      excerpt.classList.toggle("clamped", expanded);
      toggle.setAttribute("aria-expanded", String(!expanded));
      toggle.textContent = expanded ? "Show more" : "Show less";
      toggle.setAttribute("aria-label", `${toggle.textContent} of ${target}`);
    });
    // measured once it is laid out: only a cut text gets the button
    requestAnimationFrame(() => {
      toggle.hidden = excerpt.scrollHeight <= excerpt.clientHeight + 1;
    });
    return h("div", { class: "excerpt-box" }, excerpt, toggle);
  }

  async function mark(ids: string[] | null, entry: Shown | null): Promise<void> {
    replaceChildren(feedback);
    try {
      const data = await ctx.session.request<{ markNotificationsRead: { unreadCount: number } }>(
        MARK_NOTIFICATIONS_READ,
        { notificationIds: ids },
      );
      if (destroyed) return;
      const hadFocus = entry?.markButton === document.activeElement;
      for (const each of ids === null ? shown.values() : entry ? [entry] : []) setRead(each, true);
      setUnread(data.markNotificationsRead.unreadCount);
      if (ids === null) {
        focusOn(summary);
        announce("All notifications are marked as read.");
      } else if (entry && hadFocus) {
        // the button is gone: stay on this notification, on its link
        focusOn(entry.open ?? entry.li);
        announce("Marked as read.");
      }
    } catch (error) {
      if (!destroyed) replaceChildren(feedback, failure(error));
    }
  }
  markAll.addEventListener("click", () => void mark(null, null));

  function showMore(pageInfo: InboxData["notifications"]["pageInfo"]): void {
    if (!pageInfo?.hasNextPage || !pageInfo.endCursor) {
      replaceChildren(more, shown.size > 0 ? h("p", { class: "muted" }, "That is all: there are no older notifications.") : null);
      return;
    }
    const after = pageInfo.endCursor;
    const button = h("button", { type: "button", class: "secondary" }, "Show older notifications");
    let busy = false;
    button.addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      button.setAttribute("aria-disabled", "true");
      try {
        const data = await ctx.session.request<InboxData>(INBOX, { first: PAGE_SIZE, after });
        if (destroyed) return;
        let first: HTMLElement | null = null;
        for (const edge of data.notifications.edges) {
          if (shown.has(edge.node.id)) continue;
          const entry = render(edge.node);
          list.append(entry.li);
          first ??= entry.li;
        }
        total = data.notifications.totalCount ?? total;
        setUnread(data.notifications.unreadCount);
        showMore(data.notifications.pageInfo);
        focusOn(first ?? more.querySelector<HTMLElement>("button, p"));
        announce("Older notifications shown.");
      } catch (error) {
        busy = false;
        button.removeAttribute("aria-disabled");
        replaceChildren(feedback, failure(error));
      }
    });
    replaceChildren(more, button);
  }

  /** The first page; afterwards, only what is new or changed on it. */
  async function load(): Promise<void> {
    try {
      const data = await ctx.session.request<InboxData>(INBOX, { first: PAGE_SIZE });
      if (destroyed) return;
      const items = data.notifications.edges.map((edge) => edge.node);
      total = data.notifications.totalCount ?? items.length;
      if (!loaded) {
        loaded = true;
        replaceChildren(feedback);
        for (const item of items) list.append(render(item).li);
        showMore(data.notifications.pageInfo);
      } else {
        // new ones go on top, newest first; those on screen only change their read state
        let anchor: Element | null = list.firstElementChild;
        for (const item of items) {
          const known = shown.get(item.id);
          if (known) {
            setRead(known, item.readAt !== null);
            anchor = known.li.nextElementSibling;
            continue;
          }
          const entry = render(item);
          list.insertBefore(entry.li, anchor);
        }
      }
      setUnread(data.notifications.unreadCount);
    } catch (error) {
      if (destroyed) return;
      if (loaded) return; // the list stays as it is; the next change tries again
      replaceChildren(summary, "");
      replaceChildren(
        feedback,
        failure(error, () => {
          replaceChildren(feedback, h("p", { class: "muted", role: "status" }, "Loading…"));
          focusOn(summary);
          void load();
        }),
      );
      focusOn(feedback.querySelector<HTMLElement>(".retry"));
    }
  }

  void load();
  // a new notification (or one read elsewhere) changes the unread count
  const stop = ctx.onUnread((count) => {
    if (count === unreadCount && loaded) return;
    setUnread(count);
    if (loaded) void load();
  });
  return {
    destroy() {
      destroyed = true;
      stop();
    },
  };
}
