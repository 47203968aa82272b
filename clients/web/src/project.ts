// A project: its timeline live over the websocket, posting, replies and edits, status and
// watch level, and its concept pages.

import CHANGE_PROJECT_STATUS from "../../operations/ChangeProjectStatus.graphql";
import EDIT_MICROPOST from "../../operations/EditMicropost.graphql";
import POST_MICROPOST from "../../operations/PostMicropost.graphql";
import PROJECT_EVENTS from "../../operations/ProjectEvents.graphql";
import PROJECT_VIEW from "../../operations/ProjectView.graphql";
import { describe, isNotFound, link, type AppContext, type View } from "./app";
import { announce, field, h, notice, replaceChildren, serverHtml, statusBadge, statusLabel, time } from "./dom";
import type { LiveSubscription } from "./live";
import type {
  PageSummary,
  Post,
  ProjectEventsData,
  ProjectStatus,
  ProjectViewData,
  TimelineEvent,
} from "./types";
import { watchControl } from "./watch";

type Project = NonNullable<ProjectViewData["project"]>;

interface Shown {
  post: Post;
  article: HTMLElement;
  body: HTMLElement;
  edited: HTMLElement;
  replies: HTMLElement | null;
}

export function notFound(main: HTMLElement, what: "Project" | "Page"): void {
  replaceChildren(
    main,
    h("h1", { tabindex: -1 }, `${what} not found`),
    notice("error", `No ${what.toLowerCase()} with that ID exists, or you may not see it.`),
    h("p", {}, h("a", { href: "#/" }, "Back to your projects")),
  );
}

export function projectView(ctx: AppContext, main: HTMLElement, projectId: string): View {
  let subscription: LiveSubscription<ProjectEventsData> | null = null;
  let destroyed = false;
  let project: Project | null = null;
  const shown = new Map<string, Shown>();
  const timeline = h("ol", { class: "timeline", "aria-label": "Timeline, newest first" });
  const statusSlot = h("span", { id: "project-status" });
  const statusForm = h("div");
  const pagesList = h("ul", { class: "page-list" });
  const pages = new Map<string, HTMLElement>();
  const liveProblem = h("div");
  const older = h("div");

  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  void load();

  async function load(): Promise<void> {
    let data: ProjectViewData;
    try {
      data = await ctx.session.request<ProjectViewData>(PROJECT_VIEW, { id: projectId });
    } catch (error) {
      if (destroyed) return;
      if (isNotFound(error)) notFound(main, "Project");
      else replaceChildren(main, h("h1", {}, "Project"), notice("error", describe(error)));
      return;
    }
    if (destroyed) return;
    if (!data.project) {
      notFound(main, "Project");
      return;
    }
    project = data.project;
    render(project);
    if (subscription === null) {
      subscription = ctx.live.subscribe<ProjectEventsData>(
        PROJECT_EVENTS,
        { projectId: project.id, after: project.timelineCursor },
        {
          next: (event) => onEvent(event.projectTimeline),
          cursor: (event) => event.projectTimeline.cursor,
          error: (error) => replaceChildren(liveProblem, notice("error", "Live updates stopped: ", describe(error))),
        },
      );
    }
  }

  function render(p: Project): void {
    shown.clear();
    pages.clear();
    replaceChildren(timeline);
    replaceChildren(pagesList);
    for (const edge of p.timeline.edges) {
      const shownPost = addPost(edge.node, "end");
      for (const reply of edge.node.replies.edges) addPost(reply.node, "end");
      const more = (edge.node.replies.totalCount ?? 0) - edge.node.replies.edges.length;
      if (more > 0 && shownPost?.replies) {
        shownPost.replies.before(h("p", { class: "muted" }, `${more} more replies not shown`));
      }
    }
    for (const edge of p.pages.edges) upsertPage(edge.node);
    showOlder(p.timeline.pageInfo);
    setStatus(p.status, p.allowedTransitions);

    replaceChildren(
      main,
      h(
        "nav",
        { class: "breadcrumb", "aria-label": "Breadcrumb" },
        h("a", { href: "#/" }, "Projects"),
        " › ",
        p.customer.name,
      ),
      h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, p.name), statusSlot),
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          { class: "primary" },
          p.viewerCanContribute ? composer(p) : h("p", { class: "muted" }, "You may read this timeline."),
          h("section", { "aria-labelledby": "timeline-heading" }, h("h2", { id: "timeline-heading" }, "Timeline"), liveProblem, timeline, older),
        ),
        h(
          "aside",
          { class: "secondary" },
          p.descriptionHtml ? h("section", { class: "panel" }, h("h2", {}, "About"), serverHtml("markdown", p.descriptionHtml)) : null,
          h("section", { class: "panel", "aria-label": "Project status" }, h("h2", {}, "Status"), statusForm),
          watchControl(ctx, p.id, p.viewerWatchLevel, "project"),
          h("section", { class: "panel" }, h("h2", {}, "Concept pages"), pagesList),
        ),
      ),
    );
    main.querySelector("h1")?.focus();
  }

  function showOlder(pageInfo: { hasNextPage: boolean; endCursor: string | null } | undefined): void {
    if (!pageInfo?.hasNextPage || !pageInfo.endCursor) {
      replaceChildren(older);
      return;
    }
    const after = pageInfo.endCursor;
    const button = h("button", { type: "button", class: "secondary" }, "Show older posts");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const data = await ctx.session.request<ProjectViewData>(PROJECT_VIEW, { id: projectId, after });
        for (const edge of data.project?.timeline.edges ?? []) {
          addPost(edge.node, "end");
          for (const reply of edge.node.replies.edges) addPost(reply.node, "end");
        }
        showOlder(data.project?.timeline.pageInfo);
      } catch (error) {
        replaceChildren(older, notice("error", describe(error)));
      }
    });
    replaceChildren(older, button);
  }

  function composer(p: Project): HTMLElement {
    const body = h("textarea", { name: "body", rows: 3, maxlength: 5000, required: true });
    const submit = h("button", { type: "submit" }, "Post");
    const feedback = h("div");
    return h(
      "form",
      {
        class: "composer panel",
        "aria-label": "Write a post",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const text = body.value.trim();
          if (!text) return;
          submit.disabled = true;
          replaceChildren(feedback);
          try {
            await post(p.id, text, null);
            body.value = "";
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
          } finally {
            submit.disabled = false;
          }
        },
      },
      field("New post", body, "Markdown. @handle mentions someone, #topic tags the post."),
      h("div", { class: "row" }, submit),
      feedback,
    );
  }

  async function post(id: string, text: string, inReplyTo: string | null): Promise<void> {
    const data = await ctx.session.request<{
      postMicropost: { micropost: Pick<Post, "id" | "bodyHtml" | "createdAt" | "author"> };
    }>(POST_MICROPOST, { projectId: id, body: text, inReplyToId: inReplyTo });
    const created = data.postMicropost.micropost;
    addPost(
      { ...created, body: text, visibility: "SHARED", editedAt: null, parent: inReplyTo ? { id: inReplyTo } : null },
      "start",
    );
  }

  /** Show a post (or reply) once; later calls with the same ID change nothing. */
  function addPost(p: Post, where: "start" | "end"): Shown | undefined {
    const known = shown.get(p.id);
    if (known) return known;
    const isReply = p.parent !== null;
    const parent = isReply ? shown.get(p.parent!.id) : undefined;
    if (isReply && !parent?.replies) return undefined; // a reply to a post not on screen
    const mine = p.author.id === ctx.user.id;
    const body = serverHtml("post-body markdown", p.bodyHtml);
    const edited = h("small", { class: "muted edited" }, p.editedAt ? "(edited)" : "");
    const replies = isReply ? null : h("ol", { class: "replies", "aria-label": "Replies" });
    const actions = h("div", { class: "post-actions" });
    const article = h(
      "article",
      { class: isReply ? "post reply" : "post", "data-post-id": p.id },
      h(
        "header",
        {},
        h("strong", {}, p.author.name),
        " ",
        time(p.createdAt),
        " ",
        edited,
        p.visibility === "INTERNAL" ? h("span", { class: "tag internal" }, "Internal note") : null,
      ),
      body,
      actions,
      replies,
    );
    const entry: Shown = { post: p, article, body, edited, replies };
    shown.set(p.id, entry);
    if (mine) actions.append(editButton(entry));
    if (!isReply && project?.viewerCanContribute) actions.append(replyButton(entry));
    const item = h("li", {}, article);
    const list = parent?.replies ?? timeline;
    if (where === "start" && !isReply) list.prepend(item);
    else list.append(item);
    return entry;
  }

  function updatePost(p: Post): void {
    const entry = shown.get(p.id);
    if (!entry) return;
    entry.post = { ...entry.post, body: p.body, bodyHtml: p.bodyHtml, editedAt: p.editedAt };
    entry.body.replaceWith((entry.body = serverHtml("post-body markdown", p.bodyHtml)));
    replaceChildren(entry.edited, p.editedAt ? "(edited)" : "");
  }

  function editButton(entry: Shown): HTMLElement {
    const button = h("button", { type: "button", class: "link" }, "Edit");
    button.addEventListener("click", () => {
      const text = h("textarea", { name: "body", rows: 3, maxlength: 5000, required: true });
      text.value = entry.post.body;
      const feedback = h("div");
      const form = h(
        "form",
        {
          class: "inline-form",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            try {
              const data = await ctx.session.request<{ editMicropost: { micropost: Post } }>(EDIT_MICROPOST, {
                micropostId: entry.post.id,
                body: text.value,
              });
              updatePost({ ...entry.post, ...data.editMicropost.micropost });
              form.remove();
              button.hidden = false;
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
            }
          },
        },
        field("Edit your post", text),
        h(
          "div",
          { class: "row" },
          h("button", { type: "submit" }, "Save"),
          h("button", { type: "button", class: "secondary", onclick: () => { form.remove(); button.hidden = false; } }, "Cancel"),
        ),
        feedback,
      );
      button.hidden = true;
      entry.body.after(form);
      text.focus();
    });
    return button;
  }

  function replyButton(entry: Shown): HTMLElement {
    const button = h("button", { type: "button", class: "link" }, "Reply");
    button.addEventListener("click", () => {
      const text = h("textarea", { name: "body", rows: 2, maxlength: 5000, required: true });
      const feedback = h("div");
      const form = h(
        "form",
        {
          class: "inline-form",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            try {
              await post(projectId, text.value.trim(), entry.post.id);
              form.remove();
              button.hidden = false;
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
            }
          },
        },
        field(`Reply to ${entry.post.author.name}`, text),
        h(
          "div",
          { class: "row" },
          h("button", { type: "submit" }, "Send reply"),
          h("button", { type: "button", class: "secondary", onclick: () => { form.remove(); button.hidden = false; } }, "Cancel"),
        ),
        feedback,
      );
      button.hidden = true;
      (entry.replies ?? entry.article).after(form);
      text.focus();
    });
    return button;
  }

  function setStatus(status: ProjectStatus, allowed: ProjectStatus[]): void {
    if (project) project = { ...project, status, allowedTransitions: allowed };
    replaceChildren(statusSlot, statusBadge(status));
    if (!project?.viewerCanManage) {
      replaceChildren(statusForm, h("p", {}, statusBadge(status)), h("p", { class: "muted" }, "The account team changes the status."));
      return;
    }
    if (allowed.length === 0) {
      replaceChildren(statusForm, h("p", {}, statusBadge(status)), h("p", { class: "muted" }, "This project is closed."));
      return;
    }
    const select = h(
      "select",
      { name: "status" },
      allowed.map((next) => h("option", { value: next }, statusLabel(next))),
    );
    const reason = h("input", { type: "text", name: "reason", maxlength: 500 });
    const feedback = h("div");
    const form = h(
      "form",
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(feedback);
          try {
            const data = await ctx.session.request<{
              changeProjectStatus: { project: { status: ProjectStatus; allowedTransitions: ProjectStatus[] } };
            }>(CHANGE_PROJECT_STATUS, { projectId, status: select.value, reason: reason.value.trim() });
            const changed = data.changeProjectStatus.project;
            setStatus(changed.status, changed.allowedTransitions);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
          }
        },
      },
      h("p", {}, "Now ", statusBadge(status)),
      field("New status", select),
      field("Reason", reason, "Optional; followers see it."),
      h("div", { class: "row" }, h("button", { type: "submit" }, "Change status")),
      feedback,
    );
    replaceChildren(statusForm, form);
  }

  function upsertPage(page: PageSummary): void {
    const item = h(
      "li",
      {},
      h("a", { href: link("pages", page.id) }, page.title),
      page.visibility === "INTERNAL" ? h("span", { class: "tag internal" }, "Internal") : null,
      h("small", { class: "muted" }, ` rev. ${page.revision}`),
    );
    const known = pages.get(page.id);
    if (known) known.replaceWith(item);
    else pagesList.append(item);
    pages.set(page.id, item);
  }

  function activity(event: Exclude<TimelineEvent, { __typename: "ResyncRequired" }>, ...what: (Node | string)[]): void {
    timeline.prepend(
      h(
        "li",
        { class: "activity", "data-event": event.__typename },
        h("strong", {}, event.actor.name),
        " ",
        ...what,
        " ",
        time(event.occurredAt),
      ),
    );
  }

  function onEvent(event: TimelineEvent): void {
    switch (event.__typename) {
      case "ResyncRequired":
        void load(); // older than the event log reaches: fetch afresh, carry on from its cursor
        return;
      case "MicropostPosted":
        if (event.micropost && !shown.has(event.micropost.id)) {
          addPost(event.micropost, "start");
          if (event.actor.id !== ctx.user.id) announce(`New post by ${event.actor.name}`);
        }
        return;
      case "MicropostEdited":
        if (event.micropost) updatePost(event.micropost);
        return;
      case "ProjectStatusChanged": {
        setStatus(event.project.status, event.project.allowedTransitions);
        const reason = event.reason ? h("q", {}, event.reason) : "";
        activity(event, "changed the status from ", statusBadge(event.fromStatus), " to ", statusBadge(event.toStatus), " ", reason);
        if (event.actor.id !== ctx.user.id) announce(`Status changed to ${statusLabel(event.toStatus)}`);
        return;
      }
      case "PageCreated":
        if (event.page) {
          upsertPage(event.page);
          activity(event, "created the page ", h("a", { href: link("pages", event.page.id) }, event.page.title));
        }
        return;
      case "PageUpdated":
        if (event.page) {
          upsertPage(event.page);
          const summary = event.summary ? h("q", {}, event.summary) : "";
          activity(event, "updated ", h("a", { href: link("pages", event.page.id) }, event.page.title), ` to revision ${event.revision} `, summary);
        }
        return;
    }
  }

  return {
    destroy() {
      destroyed = true;
      subscription?.stop();
    },
  };
}
