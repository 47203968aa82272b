// A project: its timeline live over the websocket, posting (staff also internal notes),
// replies and edits, status and watch level, and its concept pages (and a new one). Also the
// single-post view (#/posts/ID) that links to one post and its replies.

import CHANGE_PROJECT_STATUS from "../../operations/ChangeProjectStatus.graphql";
import CREATE_PAGE from "../../operations/CreatePage.graphql";
import EDIT_MICROPOST from "../../operations/EditMicropost.graphql";
import POST_MICROPOST from "../../operations/PostMicropost.graphql";
import PROJECT_EVENTS from "../../operations/ProjectEvents.graphql";
import PROJECT_VIEW from "../../operations/ProjectView.graphql";
import SINGLE_POST from "../../operations/SinglePost.graphql";
import { describe, failure, isNotFound, isStaff, link, setTitle, type AppContext, type View } from "./app";
import {
  announce,
  field,
  focusOn,
  h,
  linkReferences,
  notice,
  replaceChildren,
  serverHtml,
  shortTime,
  statusBadge,
  statusLabel,
  time,
} from "./dom";
import type { LiveSubscription } from "./live";
import { limitText, POST_MAX_LENGTH, REASON_MAX_LENGTH, stripped, TITLE_MAX_LENGTH } from "./text";
import type {
  PageSummary,
  Post,
  ProjectEventsData,
  ProjectStatus,
  ProjectViewData,
  SinglePostData,
  Thread,
  TimelineEvent,
  Visibility,
} from "./types";
import { confirmDiscard, keepUnsaved } from "./unsaved";
import { watchControl } from "./watch";

type Project = NonNullable<ProjectViewData["project"]>;

export function notFound(main: HTMLElement, what: "Project" | "Page" | "Post"): void {
  setTitle(`${what} not found`);
  replaceChildren(
    main,
    h("h1", { tabindex: -1 }, `${what} not found`),
    notice("error", `No ${what.toLowerCase()} with that ID exists, or you may not see it.`),
    h("p", {}, h("a", { href: "#/" }, "Back to your projects")),
  );
  main.querySelector("h1")?.focus();
}

/** "Anna's post of 12 May": how accessible names tell one post from another. */
function postName(post: Post, mine: boolean): string {
  const kind = post.parent ? "reply" : "post";
  return mine ? `your ${kind} of ${shortTime(post.createdAt)}` : `${post.author.name}'s ${kind} of ${shortTime(post.createdAt)}`;
}

/** The absolute address of a post's own view, to copy and share. */
export function postUrl(id: string): string {
  return new URL(link("posts", id), window.location.href).href;
}

/** A post's body: the server's HTML, with its @mentions and #topics as links. */
function postBody(p: Post): HTMLElement {
  const body = serverHtml("post-body markdown", p.bodyHtml);
  linkReferences(
    body,
    new Map(p.mentions.map((user) => [user.handle.toLowerCase(), link("people", user.id)])),
    new Map(p.topics.map((topic) => [topic.name, link("topics", topic.name)])),
  );
  return body;
}

/** A textarea form (post, reply, edit): counts characters as the server does, posts with
 * Ctrl+Enter (⌘+Enter), closes with Escape, and keeps its unsaved text from being lost
 * silently. `submit` resolves to the element to focus afterwards; `close` (for inline forms)
 * removes the form and returns focus to what opened it. */
interface TextFormOptions {
  label: string;
  hint?: string;
  initial?: string;
  rows: number;
  submitLabel: string;
  className: string;
  extra?: HTMLElement | null;
  submit(text: string, form: HTMLFormElement): Promise<HTMLElement | null>;
  close?(): void;
}

function textForm(options: TextFormOptions): { form: HTMLFormElement; text: HTMLTextAreaElement; release(): void } {
  const text = h("textarea", { name: "body", rows: options.rows, required: true });
  text.value = options.initial ?? "";
  const initial = text.value;
  const counter = limitText(text, POST_MAX_LENGTH);
  const feedback = h("div");
  const submit = h("button", { type: "submit" }, options.submitLabel);
  let busy = false;
  const dirty = (): boolean => stripped(text.value) !== stripped(initial) && stripped(text.value) !== "";
  const release = keepUnsaved(dirty);
  const close = (): void => {
    if (!options.close) return;
    if (!confirmDiscard(dirty())) return;
    release();
    options.close();
  };
  const form = h(
    "form",
    {
      class: options.className,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const value = stripped(text.value);
        if (!value || busy) return;
        busy = true;
        submit.setAttribute("aria-disabled", "true");
        replaceChildren(feedback);
        try {
          const result = await options.submit(value, form);
          text.value = "";
          text.dispatchEvent(new Event("input"));
          if (options.close) {
            release();
            options.close();
          }
          focusOn(result);
        } catch (error) {
          replaceChildren(feedback, notice("error", describe(error)));
        } finally {
          busy = false;
          submit.removeAttribute("aria-disabled");
        }
      },
      onkeydown: (event: Event) => {
        const key = event as KeyboardEvent;
        if (key.key === "Enter" && (key.ctrlKey || key.metaKey) && key.target === text) {
          key.preventDefault();
          form.requestSubmit();
        } else if (key.key === "Escape" && options.close) {
          key.preventDefault();
          close();
        }
      },
    },
    field(options.label, text, options.hint),
    counter,
    options.extra ?? null,
    h(
      "div",
      { class: "row" },
      submit,
      options.close ? h("button", { type: "button", class: "secondary", onclick: close }, "Cancel") : null,
      h("small", { class: "muted" }, "Ctrl+Enter sends"),
    ),
    feedback,
  );
  return { form, text, release };
}

interface Shown {
  post: Post;
  article: HTMLElement;
  body: HTMLElement;
  edited: HTMLElement;
  replies: HTMLElement | null;
}

/** The posts on screen, each once, with its replies and its Reply, Edit and link actions. */
class Threads {
  readonly shown = new Map<string, Shown>();
  private releases = new Set<() => void>();

  constructor(
    private readonly ctx: AppContext,
    private readonly projectId: string,
    readonly list: HTMLElement,
    private readonly canContribute: () => boolean,
    private readonly onFirstPost: () => void = () => {},
  ) {}

  clear(): void {
    this.shown.clear();
    replaceChildren(this.list);
  }

  destroy(): void {
    for (const release of this.releases) release();
    this.releases.clear();
  }

  /** A thread: the post, its replies, and a link to the rest where not all are shown. */
  addThread(thread: Thread, where: "start" | "end"): Shown | undefined {
    const entry = this.add(thread, where);
    for (const reply of thread.replies.edges) this.add(reply.node, "end");
    const more = (thread.replies.totalCount ?? 0) - thread.replies.edges.length;
    if (more > 0 && entry?.replies && !entry.replies.previousElementSibling?.classList.contains("more-replies")) {
      entry.replies.before(
        h("p", { class: "more-replies" }, h("a", { href: link("posts", thread.id) }, `See all ${thread.replies.totalCount} replies`)),
      );
    }
    return entry;
  }

  /** Show a post (or reply) once; later calls with the same ID give the one shown. */
  add(p: Post, where: "start" | "end"): Shown | undefined {
    const known = this.shown.get(p.id);
    if (known) return known;
    const isReply = p.parent !== null;
    const parent = isReply ? this.shown.get(p.parent!.id) : undefined;
    if (isReply && !parent?.replies) return undefined; // a reply to a post not on screen
    const mine = p.author.id === this.ctx.user.id;
    const body = postBody(p);
    const edited = h("small", { class: "muted edited" }, p.editedAt ? "(edited)" : "");
    const replies = isReply ? null : h("ol", { class: "replies", "aria-label": `Replies to ${postName(p, mine)}` });
    const actions = h("div", { class: "post-actions" });
    const internal = p.visibility === "INTERNAL";
    const article = h(
      "article",
      {
        class: `${isReply ? "post reply" : "post"}${internal ? " internal" : ""}`,
        "data-post-id": p.id,
        "aria-label": `${internal ? "Internal note: " : ""}${postName(p, mine)}`,
      },
      h(
        "header",
        {},
        h("strong", {}, p.author.name),
        " ",
        time(p.createdAt),
        " ",
        edited,
        internal ? h("span", { class: "tag internal" }, "Internal note: staff only") : null,
        p.page && !isReply
          ? h("span", { class: "on-page" }, " on the page ", h("a", { href: link("pages", p.page.id) }, p.page.title))
          : null,
      ),
      body,
      actions,
      replies,
    );
    const entry: Shown = { post: p, article, body, edited, replies };
    this.shown.set(p.id, entry);
    if (!isReply && this.canContribute()) actions.append(this.replyButton(entry, mine));
    if (mine) actions.append(this.editButton(entry));
    actions.append(...this.linkActions(p, mine));
    const item = h("li", {}, article);
    const list = parent?.replies ?? this.list;
    if (!isReply) this.onFirstPost();
    if (where === "start" && !isReply) list.prepend(item);
    else list.append(item);
    return entry;
  }

  update(p: Post): void {
    const entry = this.shown.get(p.id);
    if (!entry) return;
    entry.post = { ...entry.post, ...p };
    entry.body.replaceWith((entry.body = postBody(entry.post)));
    replaceChildren(entry.edited, p.editedAt ? "(edited)" : "");
  }

  async post(text: string, inReplyTo: string | null, visibility: Visibility = "SHARED"): Promise<Shown | undefined> {
    const data = await this.ctx.session.request<{ postMicropost: { micropost: Post } }>(POST_MICROPOST, {
      projectId: this.projectId,
      body: text,
      inReplyToId: inReplyTo,
      visibility,
    });
    return this.add(data.postMicropost.micropost, "start");
  }

  private keep(release: () => void): () => void {
    this.releases.add(release);
    return () => {
      release();
      this.releases.delete(release);
    };
  }

  private linkActions(p: Post, mine: boolean): HTMLElement[] {
    const name = postName(p, mine);
    const copy = h("button", { type: "button", class: "link", "aria-label": `Copy link to ${name}` }, "Copy link");
    copy.addEventListener("click", async () => {
      const url = postUrl(p.id);
      try {
        await navigator.clipboard.writeText(url);
        announce("Link copied.");
        copy.textContent = "Link copied";
        window.setTimeout(() => (copy.textContent = "Copy link"), 3000);
      } catch {
        window.prompt("Copy this link to the post:", url);
      }
    });
    return [h("a", { href: link("posts", p.id), class: "post-link", "aria-label": `Link to ${name}` }, "Link"), copy];
  }

  private editButton(entry: Shown): HTMLElement {
    const button = h(
      "button",
      { type: "button", class: "link", "aria-label": `Edit (${postName(entry.post, true)})`, "aria-expanded": "false" },
      "Edit",
    );
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-expanded") === "true") return;
      const close = (): void => {
        form.remove();
        button.hidden = false;
        button.setAttribute("aria-expanded", "false");
        button.focus();
      };
      const { form, text, release } = textForm({
        label: "Edit your post",
        initial: entry.post.body,
        rows: 3,
        submitLabel: "Save",
        className: "inline-form",
        submit: async (value) => {
          const data = await this.ctx.session.request<{ editMicropost: { micropost: Post } }>(EDIT_MICROPOST, {
            micropostId: entry.post.id,
            body: value,
          });
          this.update({ ...entry.post, ...data.editMicropost.micropost });
          announce("Your post is saved.");
          return entry.article;
        },
        close: () => {
          forget();
          close();
        },
      });
      const forget = this.keep(release);
      button.hidden = true;
      button.setAttribute("aria-expanded", "true");
      entry.body.after(form);
      text.focus();
    });
    return button;
  }

  private replyButton(entry: Shown, mine: boolean): HTMLElement {
    const button = h(
      "button",
      { type: "button", class: "link", "aria-label": `Reply to ${postName(entry.post, mine)}`, "aria-expanded": "false" },
      "Reply",
    );
    button.addEventListener("click", () => {
      if (button.getAttribute("aria-expanded") === "true") return;
      const { form, text, release } = textForm({
        label: `Reply to ${entry.post.author.name}`,
        rows: 2,
        submitLabel: "Send reply",
        className: "inline-form",
        submit: async (value) => {
          const reply = await this.post(value, entry.post.id);
          return reply?.article ?? entry.article;
        },
        close: () => {
          forget();
          form.remove();
          button.hidden = false;
          button.setAttribute("aria-expanded", "false");
          // after sending, focus goes to the new reply (textForm); after Cancel, back here
          button.focus();
        },
      });
      const forget = this.keep(release);
      button.hidden = true;
      button.setAttribute("aria-expanded", "true");
      (entry.replies ?? entry.article).after(form);
      text.focus();
    });
    return button;
  }

  /** The composer at the top of the timeline (staff may mark a post an internal note). */
  composer(staff: boolean): HTMLElement {
    const internal = staff ? h("input", { type: "checkbox", name: "internal", id: "post-internal" }) : null;
    const extra = internal
      ? h(
          "div",
          { class: "check" },
          internal,
          h("label", { for: "post-internal" }, "Internal note: only staff can read it"),
        )
      : null;
    const { form, release } = textForm({
      label: "New post",
      hint: "Markdown. @handle mentions someone, #topic tags the post.",
      rows: 3,
      submitLabel: "Post",
      className: "composer panel",
      extra,
      submit: async (value) => {
        const entry = await this.post(value, null, internal?.checked ? "INTERNAL" : "SHARED");
        if (internal) internal.checked = false;
        form.classList.remove("internal");
        announce("Posted.");
        return entry?.article ?? null;
      },
    });
    this.keep(release);
    form.setAttribute("aria-label", "Write a post");
    internal?.addEventListener("change", () => form.classList.toggle("internal", internal.checked));
    return form;
  }
}

export function projectView(ctx: AppContext, main: HTMLElement, projectId: string): View {
  let subscription: LiveSubscription<ProjectEventsData> | null = null;
  let destroyed = false;
  let project: Project | null = null;
  const timeline = h("ol", { class: "timeline", "aria-label": "Timeline, newest first" });
  const emptyTimeline = h("p", { class: "empty muted" });
  const threads = new Threads(ctx, projectId, timeline, () => project?.viewerCanContribute ?? false, () => {
    emptyTimeline.hidden = true;
  });
  const statusSlot = h("span", { id: "project-status" });
  const statusForm = h("div");
  const pagesList = h("ul", { class: "page-list" });
  const emptyPages = h("p", { class: "empty muted" });
  const pages = new Map<string, HTMLElement>();
  const liveProblem = h("div");
  const older = h("div");
  let shownStatus = "";
  let releasePageForm: (() => void) | null = null;

  setTitle("Project");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  void load();

  async function load(): Promise<void> {
    let data: ProjectViewData;
    try {
      data = await ctx.session.request<ProjectViewData>(PROJECT_VIEW, { id: projectId });
    } catch (error) {
      if (destroyed) return;
      if (isNotFound(error)) notFound(main, "Project");
      else {
        setTitle("Project");
        replaceChildren(main, h("h1", { tabindex: -1 }, "Project"), failure(error, retry));
        focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      }
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

  function retry(): void {
    replaceChildren(main, h("p", { class: "muted", role: "status" }, "Loading…"));
    focusOn(main);
    void load();
  }

  function render(p: Project): void {
    threads.clear();
    pages.clear();
    replaceChildren(pagesList);
    shownStatus = "";
    emptyTimeline.hidden = false;
    replaceChildren(
      emptyTimeline,
      p.viewerCanContribute
        ? "Nothing has been posted yet. Write the first post above: everyone following the project hears of it."
        : "Nothing has been posted yet.",
    );
    replaceChildren(
      emptyPages,
      p.viewerCanContribute ? "No concept pages yet. Start one with “New page”." : "No concept pages yet.",
    );
    for (const edge of p.timeline.edges) threads.addThread(edge.node, "end");
    for (const edge of p.pages.edges) upsertPage(edge.node);
    emptyPages.hidden = pages.size > 0;
    showOlder(p.timeline.pageInfo);
    setStatus(p.status, p.allowedTransitions);
    setTitle(p.name);

    // the side column comes first: on a wide screen it stands at the right, and its few
    // controls (status, follow, pages) are reached before the long timeline
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
        "a",
        {
          class: "skip",
          href: "#timeline-heading",
          onclick: (event: Event) => {
            event.preventDefault();
            focusOn(document.getElementById("timeline-heading"));
          },
        },
        "Skip to the timeline",
      ),
      h(
        "div",
        { class: "columns" },
        h(
          "aside",
          { class: "secondary", "aria-label": "About this project" },
          p.descriptionHtml ? h("section", { class: "panel" }, h("h2", {}, "About"), serverHtml("markdown", p.descriptionHtml)) : null,
          h("section", { class: "panel", "aria-label": "Project status" }, h("h2", {}, "Status"), statusForm),
          watchControl(ctx, p.id, p.viewerWatchLevel, "project"),
          h(
            "section",
            { class: "panel", "aria-labelledby": "pages-heading" },
            h("h2", { id: "pages-heading" }, "Concept pages"),
            emptyPages,
            pagesList,
            p.viewerCanContribute ? newPage(p) : null,
          ),
        ),
        h(
          "div",
          { class: "primary" },
          p.viewerCanContribute ? threads.composer(isStaff(ctx.user)) : h("p", { class: "muted" }, "You may read this timeline."),
          h(
            "section",
            { "aria-labelledby": "timeline-heading" },
            h("h2", { id: "timeline-heading" }, "Timeline"),
            liveProblem,
            emptyTimeline,
            timeline,
            older,
          ),
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
    let busy = false;
    button.addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      button.setAttribute("aria-disabled", "true");
      try {
        const data = await ctx.session.request<ProjectViewData>(PROJECT_VIEW, { id: projectId, after });
        let first: HTMLElement | null = null;
        for (const edge of data.project?.timeline.edges ?? []) {
          const entry = threads.addThread(edge.node, "end");
          first ??= entry?.article ?? null;
        }
        showOlder(data.project?.timeline.pageInfo);
        if (first) focusOn(first);
        else focusOn(older.querySelector("button") ?? timeline);
        announce(data.project?.timeline.pageInfo?.hasNextPage ? "Older posts shown." : "Older posts shown: this is the first post.");
      } catch (error) {
        busy = false;
        button.removeAttribute("aria-disabled");
        older.append(failure(error));
      }
    });
    replaceChildren(older, button);
  }

  function newPage(p: Project): HTMLElement {
    const slot = h("div", { class: "new-page" });
    const open = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, "New page");
    const close = (): void => {
      releasePageForm?.();
      releasePageForm = null;
      replaceChildren(slot, open);
      open.setAttribute("aria-expanded", "false");
      open.focus();
    };
    open.addEventListener("click", () => {
      const title = h("input", { type: "text", name: "title", required: true, autocomplete: "off" });
      const counter = limitText(title, TITLE_MAX_LENGTH);
      const visibility = isStaff(ctx.user)
        ? h(
            "select",
            { name: "visibility" },
            h("option", { value: "SHARED" }, "Shared with the customer"),
            h("option", { value: "INTERNAL" }, "Internal: staff only"),
          )
        : null;
      const feedback = h("div");
      releasePageForm = keepUnsaved(() => stripped(title.value) !== "");
      const cancel = (): void => {
        if (confirmDiscard(stripped(title.value) !== "")) close();
      };
      const form = h(
        "form",
        {
          class: "inline-form",
          "aria-label": "New page",
          onkeydown: (event: Event) => {
            if ((event as KeyboardEvent).key === "Escape") {
              event.preventDefault();
              cancel();
            }
          },
          onsubmit: async (event: Event) => {
            event.preventDefault();
            const text = stripped(title.value);
            if (!text) return;
            replaceChildren(feedback);
            try {
              const data = await ctx.session.request<{ createPage: { page: PageSummary } }>(CREATE_PAGE, {
                projectId: p.id,
                title: text,
                visibility: visibility?.value ?? "SHARED",
              });
              releasePageForm?.();
              releasePageForm = null;
              upsertPage(data.createPage.page);
              window.location.hash = link("pages", data.createPage.page.id);
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
            }
          },
        },
        field("Title of the new page", title),
        counter,
        visibility ? field("Who may read it", visibility) : null,
        h(
          "div",
          { class: "row" },
          h("button", { type: "submit" }, "Create page"),
          h("button", { type: "button", class: "secondary", onclick: cancel }, "Cancel"),
        ),
        feedback,
      );
      replaceChildren(slot, form);
      open.setAttribute("aria-expanded", "true");
      title.focus();
    });
    slot.append(open);
    return slot;
  }

  function setStatus(status: ProjectStatus, allowed: ProjectStatus[], changedHere = false): void {
    if (project) project = { ...project, status, allowedTransitions: allowed };
    const key = `${status}:${allowed.join(",")}`;
    if (key === shownStatus && !changedHere) return; // our own change, told again live
    shownStatus = key;
    replaceChildren(statusSlot, statusBadge(status));
    // changed by someone else while this form was in use: say so where the focus was, and
    // keep the reason typed so far
    const inUse = !changedHere && statusForm.contains(document.activeElement);
    const typed = statusForm.querySelector<HTMLInputElement>("input[name=reason]")?.value ?? "";
    const done = changedHere
      ? notice("success", "Status changed to ", statusBadge(status), ".")
      : inUse
        ? notice("info", "Someone else changed the status to ", statusBadge(status), ".")
        : null;
    if (!project?.viewerCanManage) {
      replaceChildren(statusForm, h("p", {}, statusBadge(status)), h("p", { class: "muted" }, "The account team changes the status."));
      return;
    }
    if (allowed.length === 0) {
      replaceChildren(statusForm, done, h("p", {}, statusBadge(status)), h("p", { class: "muted" }, "This project is closed."));
      focusOn(done);
      return;
    }
    const select = h(
      "select",
      { name: "status" },
      allowed.map((next) => h("option", { value: next }, statusLabel(next))),
    );
    const reason = h("input", { type: "text", name: "reason" });
    reason.value = typed;
    const feedback = h("div");
    let busy = false;
    const form = h(
      "form",
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (busy) return;
          replaceChildren(feedback);
          const next = select.value as ProjectStatus;
          // both end the project for good: ask first
          const ask =
            next === "CANCELLED"
              ? "Cancel this project? Its customer's contacts are told, and a cancelled project cannot be reopened."
              : next === "COMPLETED"
                ? "Mark this project completed? A completed project cannot be reopened or change status again."
                : null;
          if (ask && !window.confirm(ask)) return;
          busy = true;
          try {
            const data = await ctx.session.request<{
              changeProjectStatus: { project: { status: ProjectStatus; allowedTransitions: ProjectStatus[] } };
            }>(CHANGE_PROJECT_STATUS, { projectId, status: next, reason: stripped(reason.value) });
            const changed = data.changeProjectStatus.project;
            setStatus(changed.status, changed.allowedTransitions, true);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
          } finally {
            busy = false;
          }
        },
      },
      done,
      h("p", {}, "Now ", statusBadge(status)),
      field("New status", select),
      field("Reason", reason, "Optional; followers see it."),
      limitText(reason, REASON_MAX_LENGTH),
      h("div", { class: "row" }, h("button", { type: "submit" }, "Change status")),
      feedback,
    );
    replaceChildren(statusForm, form);
    focusOn(done);
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
    emptyPages.hidden = true;
  }

  function activity(event: Exclude<TimelineEvent, { __typename: "ResyncRequired" }>, ...what: (Node | string)[]): void {
    emptyTimeline.hidden = true;
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
        if (event.micropost && !threads.shown.has(event.micropost.id)) {
          threads.add(event.micropost, "start");
          if (event.actor.id !== ctx.user.id) announce(`New post by ${event.actor.name}`);
        }
        return;
      case "MicropostEdited":
        if (event.micropost) threads.update(event.micropost);
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
      threads.destroy();
      releasePageForm?.();
    },
  };
}

/** One post (a reply: its whole thread) at a link of its own, #/posts/ID. */
export function postView(ctx: AppContext, main: HTMLElement, postId: string): View {
  let destroyed = false;
  let threads: Threads | null = null;
  setTitle("Post");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));

  async function load(): Promise<void> {
    let data: SinglePostData;
    try {
      data = await ctx.session.request<SinglePostData>(SINGLE_POST, { id: postId });
    } catch (error) {
      if (destroyed) return;
      if (isNotFound(error)) notFound(main, "Post");
      else {
        replaceChildren(main, h("h1", { tabindex: -1 }, "Post"), failure(error, retry));
        focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      }
      return;
    }
    if (destroyed) return;
    const post = data.node;
    if (!post || !("project" in post)) {
      notFound(main, "Post");
      return;
    }
    const project = post.project;
    const list = h("ol", { class: "timeline single", "aria-label": "The post and its replies" });
    threads?.destroy();
    threads = new Threads(ctx, project.id, list, () => project.viewerCanContribute);
    threads.addThread(post.parent ?? post, "end");
    const target = threads.shown.get(post.id);
    target?.article.classList.add("target");
    const mine = post.author.id === ctx.user.id;
    const heading = mine ? `Your ${post.parent ? "reply" : "post"}` : `${post.author.name}'s ${post.parent ? "reply" : "post"}`;
    setTitle(heading, project.name);
    replaceChildren(
      main,
      h(
        "nav",
        { class: "breadcrumb", "aria-label": "Breadcrumb" },
        h("a", { href: "#/" }, "Projects"),
        " › ",
        project.customer.name,
        " › ",
        h("a", { href: link("projects", project.id) }, project.name),
      ),
      h("h1", { tabindex: -1 }, heading, " ", h("small", { class: "muted" }, "of ", time(post.createdAt))),
      list,
      h("p", {}, h("a", { href: link("projects", project.id) }, `Back to the timeline of ${project.name}`)),
    );
    focusOn(target?.article ?? main.querySelector("h1"));
  }

  function retry(): void {
    replaceChildren(main, h("p", { class: "muted", role: "status" }, "Loading…"));
    focusOn(main);
    void load();
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      threads?.destroy();
    },
  };
}
