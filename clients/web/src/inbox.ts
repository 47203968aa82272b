// The inbox: what watches and mentions produced for me, newest first, with read state.

import INBOX from "../../operations/Inbox.graphql";
import MARK_NOTIFICATIONS_READ from "../../operations/MarkNotificationsRead.graphql";
import { describe, link, type AppContext, type View } from "./app";
import { h, notice, replaceChildren, serverHtml, statusBadge, time } from "./dom";
import type { InboxData } from "./types";

type Item = InboxData["notifications"]["edges"][number]["node"];

const REASONS: Record<Item["reason"], string> = {
  MENTIONED: "Mentioned you",
  REPLIED: "Replied to you",
  PARTICIPATING: "Participating",
  WATCHING: "Watching",
};

function describeEvent(item: Item): { what: (Node | string)[]; href: string | null } {
  const event = item.event;
  const project = event.project;
  const where = project ? ` in ${project.name}` : "";
  const projectHref = project ? link("projects", project.id) : null;
  switch (event.__typename) {
    case "MicropostPosted":
    case "MicropostEdited":
      return {
        what: [
          event.__typename === "MicropostPosted" ? `posted${where}` : `edited a post${where}`,
          event.micropost ? serverHtml("markdown excerpt", event.micropost.bodyHtml) : "",
        ],
        href: projectHref,
      };
    case "ProjectStatusChanged":
      return {
        what: [`changed the status${where} from `, statusBadge(event.fromStatus), " to ", statusBadge(event.toStatus)],
        href: projectHref,
      };
    case "PageCreated":
      return { what: [`created the page “${event.page?.title ?? "?"}”${where}`], href: event.page ? link("pages", event.page.id) : projectHref };
    case "PageUpdated":
      return {
        what: [`updated “${event.page?.title ?? "?"}” to revision ${event.revision}${where}`],
        href: event.page ? link("pages", event.page.id) : projectHref,
      };
    default:
      return { what: ["something happened"], href: projectHref };
  }
}

export function inboxView(ctx: AppContext, main: HTMLElement): View {
  const list = h("ol", { class: "inbox", "aria-label": "Notifications, newest first" });
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const feedback = h("div");
  const markAll = h("button", { type: "button", class: "secondary" }, "Mark all as read");
  let destroyed = false;

  replaceChildren(main, h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, "Inbox"), markAll), summary, feedback, list);
  main.querySelector("h1")?.focus();

  async function mark(ids: string[] | null): Promise<void> {
    try {
      await ctx.session.request(MARK_NOTIFICATIONS_READ, { notificationIds: ids });
      await load();
    } catch (error) {
      replaceChildren(feedback, notice("error", describe(error)));
    }
  }
  markAll.addEventListener("click", () => void mark(null));

  async function load(): Promise<void> {
    try {
      const data = await ctx.session.request<InboxData>(INBOX);
      if (destroyed) return;
      const items = data.notifications.edges.map((edge) => edge.node);
      replaceChildren(
        summary,
        items.length === 0 ? "Nothing here yet: watch a project or page to hear of it." : `${data.notifications.unreadCount} unread`,
      );
      markAll.disabled = data.notifications.unreadCount === 0;
      replaceChildren(
        list,
        items.map((item) => {
          const { what, href } = describeEvent(item);
          const unread = item.readAt === null;
          return h(
            "li",
            { class: unread ? "notification unread" : "notification", "data-notification-id": item.id },
            h(
              "div",
              {},
              h("span", { class: "tag" }, REASONS[item.reason]),
              unread ? h("span", { class: "tag unread-tag" }, "Unread") : null,
              " ",
              h("strong", {}, item.event.actor?.name ?? ""),
              " ",
              ...what,
            ),
            h(
              "div",
              { class: "row" },
              time(item.createdAt),
              href
                ? h("a", { href, onclick: () => (unread ? void mark([item.id]) : undefined) }, "Open")
                : null,
              unread
                ? h("button", { type: "button", class: "link", onclick: () => void mark([item.id]) }, "Mark as read")
                : null,
            ),
          );
        }),
      );
    } catch (error) {
      replaceChildren(feedback, notice("error", describe(error)));
    }
  }

  void load();
  // a new notification (or one read elsewhere) changes the unread count: show it at once
  const stop = ctx.onUnread(() => void load());
  return {
    destroy() {
      destroyed = true;
      stop();
    },
  };
}
