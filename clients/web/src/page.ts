// A concept page: the rendered text, editing from a base revision with the merge or
// conflict outcome, its discussion (comments), revision history with diffs and restoring a
// revision, and who else is on the page. Every action leaves focus on its result or its
// notice; discarding a draft or restoring a revision asks first; unsaved text in the editor
// or a comment is never lost silently (unsaved.ts).

import DISCARD_PAGE_DRAFT from "../../operations/DiscardPageDraft.graphql";
import PAGE_COMMENTS from "../../operations/PageComments.graphql";
import PAGE_DIFF from "../../operations/PageDiff.graphql";
import PAGE_PRESENCE from "../../operations/PagePresence.graphql";
import PAGE_VIEW from "../../operations/PageView.graphql";
import POST_PAGE_COMMENT from "../../operations/PostPageComment.graphql";
import PROJECT_EVENTS from "../../operations/ProjectEvents.graphql";
import RESTORE_PAGE_REVISION from "../../operations/RestorePageRevision.graphql";
import SET_PAGE_EDITING from "../../operations/SetPageEditing.graphql";
import UPDATE_PAGE from "../../operations/UpdatePage.graphql";
import { describe, failure, isNotFound, link, setTitle, type AppContext, type View } from "./app";
import { announce, field, h, notice, replaceChildren, serverHtml, time } from "./dom";
import type { LiveSubscription } from "./live";
import { notFound } from "./project";
import { GraphQLRequestError } from "./session";
import type { ConflictHunk, MergeProposal, PageData, PageDiffData, PresenceData, ProjectEventsData } from "./types";
import { limitText, PAGE_MAX_LENGTH, POST_MAX_LENGTH, SUMMARY_MAX_LENGTH, TITLE_MAX_LENGTH } from "./text";
import { confirmDiscard, keepUnsaved } from "./unsaved";
import { watchControl } from "./watch";

interface Editing {
  base: number;
  baseTitle: string | null; // null: always send (the text was not read as revision `base`)
  baseBody: string | null;
  title: HTMLInputElement;
  body: HTMLTextAreaElement;
  summary: HTMLInputElement;
  /** The texts the editor opened with: anything else is unsaved work. */
  start: { title: string; body: string };
}

interface PageComment {
  id: string;
  bodyHtml: string;
  visibility: string;
  createdAt: string;
  editedAt: string | null;
  author: { id: string; name: string };
}

interface CommentsPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: PageComment }[];
}

/** Move focus to an element that shows a result (made focusable for it) and bring it into view. */
function focusOn(element: HTMLElement): void {
  if (!element.hasAttribute("tabindex")) element.tabIndex = -1;
  element.focus({ preventScroll: true });
  element.scrollIntoView({ block: "start" });
}

export function pageView(ctx: AppContext, main: HTMLElement, pageId: string): View {
  let page: PageData | null = null;
  let editing: Editing | null = null;
  let conflictShown = false; // the conflict panel stands in for the draft notice
  let resolving = false; // choosing between the sides of a draft's conflicts
  let destroyed = false;
  let keptSummary = ""; // the summary typed before a conflict, for the next editor
  let releaseEditor: (() => void) | null = null;
  const subscriptions: LiveSubscription<unknown>[] = [];

  const title = h("h1", { tabindex: -1 });
  const meta = h("p", { class: "muted meta" });
  const content = h("div");
  const outcome = h("div", { class: "outcome" });
  const liveNotice = h("div", { "aria-live": "polite" });
  const editorSlot = h("div");
  const draftSlot = h("div");
  const actions = h("div", { class: "row" });
  const attachments = h("div");
  const revisions = h("ol", { class: "revisions", "aria-label": "Revisions, newest first" });
  const compare = h("div");
  const diffSlot = h("div");
  const comments = pageComments();
  const people = h("ul", { class: "presence", "aria-label": "People on this page" });

  let editButton: HTMLButtonElement | null = null;
  setTitle("Page");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  void load();

  async function fetchPage(): Promise<PageData | null> {
    const data = await ctx.session.request<{ page: PageData | null }>(PAGE_VIEW, { id: pageId });
    return data.page;
  }

  async function load(): Promise<void> {
    let fetched: PageData | null;
    try {
      fetched = await fetchPage();
    } catch (error) {
      if (destroyed) return;
      if (isNotFound(error)) notFound(main, "Page");
      else {
        replaceChildren(main, h("h1", { tabindex: -1 }, "Page"), failure(error, () => void load()));
        focusOn(main.querySelector<HTMLElement>(".retry") ?? main);
      }
      return;
    }
    if (destroyed) return;
    if (!fetched) {
      notFound(main, "Page");
      return;
    }
    page = fetched;
    layout(fetched);
    show(fetched);
    subscribe(fetched);
    if (fetched.project.viewerCanContribute) comments.allowPosting();
    void comments.more();
  }

  async function reload(): Promise<void> {
    try {
      const fetched = await fetchPage();
      if (fetched && !destroyed) {
        page = fetched;
        show(fetched);
      }
    } catch (error) {
      replaceChildren(liveNotice, notice("error", describe(error)));
    }
  }

  function layout(p: PageData): void {
    replaceChildren(
      main,
      h(
        "nav",
        { class: "breadcrumb", "aria-label": "Breadcrumb" },
        h("a", { href: "#/" }, "Projects"),
        " › ",
        p.project.customer.name,
        " › ",
        h("a", { href: link("projects", p.project.id) }, p.project.name),
      ),
      h("header", { class: "page-header" }, title, meta),
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          { class: "primary" },
          liveNotice,
          outcome,
          draftSlot,
          editorSlot,
          actions,
          h("article", { class: "panel page-body", "aria-labelledby": "page-title" }, content),
          attachments,
          comments.element,
          h("section", { class: "panel history", "aria-labelledby": "history-heading" }, h("h2", { id: "history-heading" }, "History"), revisions, compare, diffSlot),
        ),
        h(
          "aside",
          { class: "secondary" },
          h("section", { class: "panel", "aria-labelledby": "presence-heading" }, h("h2", { id: "presence-heading" }, "On this page now"), people),
          watchControl(ctx, p.id, p.viewerWatchLevel, "page"),
        ),
      ),
    );
    title.id = "page-title";
    title.focus();
  }

  function show(p: PageData): void {
    setTitle(p.title, p.project.name);
    replaceChildren(title, p.title, p.visibility === "INTERNAL" ? h("span", { class: "tag internal" }, "Internal") : null);
    replaceChildren(
      meta,
      h("span", { "data-testid": "page-revision" }, `Revision ${p.revision}`),
      " · updated ",
      time(p.updatedAt),
      ` · started by ${p.createdBy.name}`,
    );
    replaceChildren(content, serverHtml("markdown", p.bodyHtml));
    replaceChildren(actions);
    editButton = null;
    // while the conflict panel is up, its "Edit again" (from your draft) is the way to edit
    if (p.project.viewerCanContribute && !editing && !resolving && !conflictShown) {
      editButton = h("button", { type: "button", onclick: () => openEditor() }, "Edit page");
      actions.append(editButton);
    }
    showDraft(p);
    showAttachments(p);
    showHistory(p);
  }

  function showDraft(p: PageData): void {
    if (!p.draft || editing || resolving || conflictShown) {
      replaceChildren(draftSlot);
      return;
    }
    const draft = p.draft;
    replaceChildren(
      draftSlot,
      notice(
        "info",
        `You have a draft of this page, begun on revision ${draft.baseRevision}, that did not merge. `,
        h(
          "button",
          {
            type: "button",
            onclick: () => openResolver(draft.proposal),
          },
          "Continue with my draft",
        ),
        " ",
        h("button", { type: "button", class: "secondary", onclick: () => void discardDraft() }, "Discard my draft"),
      ),
    );
  }

  function showAttachments(p: PageData): void {
    if (p.attachments.length === 0) {
      replaceChildren(attachments);
      return;
    }
    replaceChildren(
      attachments,
      h(
        "section",
        { class: "panel", "aria-label": "Attachments" },
        h("h2", {}, "Attachments"),
        h(
          "ul",
          {},
          p.attachments.map((file) =>
            h(
              "li",
              {},
              h("a", { href: file.downloadUrl, download: file.name }, file.name),
              h("small", { class: "muted" }, ` version ${file.version}, ${Math.ceil(file.size / 1024)} KB`),
            ),
          ),
        ),
      ),
    );
  }

  function showHistory(p: PageData): void {
    const numbers = p.revisions.edges.map((edge) => edge.node.number);
    replaceChildren(
      revisions,
      p.revisions.edges.map(({ node }) =>
        h(
          "li",
          {},
          h("strong", {}, `Revision ${node.number}`),
          ` by ${node.author.name}, `,
          time(node.createdAt),
          node.summary ? h("q", {}, node.summary) : null,
          node.number > 1
            ? h(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-label": `Changes in revision ${node.number}`,
                  onclick: () => void showDiff(node.number - 1, node.number),
                },
                "Changes",
              )
            : null,
          p.project.viewerCanContribute && node.number !== p.revision
            ? h(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-label": `Restore revision ${node.number}`,
                  onclick: () => void restore(node.number),
                },
                "Restore",
              )
            : null,
        ),
      ),
    );
    if (numbers.length < 2) {
      replaceChildren(compare);
      return;
    }
    const choose = (name: string, selected: number) =>
      h(
        "select",
        { name },
        numbers.map((n) => h("option", { value: n, selected: n === selected }, `Revision ${n}`)),
      );
    const from = choose("from", numbers[numbers.length - 1]!);
    const to = choose("to", numbers[0]!);
    replaceChildren(
      compare,
      h(
        "form",
        {
          class: "compare row",
          "aria-label": "Compare two revisions",
          onsubmit: (event: Event) => {
            event.preventDefault();
            void showDiff(Number(from.value), Number(to.value));
          },
        },
        field("From", from),
        field("To", to),
        h("button", { type: "submit", class: "secondary" }, "Compare"),
      ),
    );
  }

  async function showDiff(from: number, to: number): Promise<void> {
    try {
      const data = await ctx.session.request<PageDiffData>(PAGE_DIFF, { id: pageId, from, to });
      const diff = data.page?.diff;
      if (!diff) return;
      const caption = h("figcaption", { tabindex: -1 }, `Changes from revision ${diff.fromRevision} to revision ${diff.toRevision}`);
      replaceChildren(
        diffSlot,
        h(
          "figure",
          { class: "diff" },
          caption,
          diff.titleChanged ? h("p", {}, "The title changed.") : null,
          diff.hunks.length === 0 ? h("p", { class: "muted" }, "The text is the same.") : null,
          diff.hunks.map((hunk) =>
            h(
              "div",
              { class: "hunk" },
              h(
                "div",
                { class: "hunk-header" },
                `Lines ${hunk.oldStart}–${hunk.oldStart + Math.max(hunk.oldLines - 1, 0)} → ${hunk.newStart}–${hunk.newStart + Math.max(hunk.newLines - 1, 0)}`,
              ),
              h(
                "pre",
                {},
                hunk.lines.map((line) =>
                  line.kind === "ADDED"
                    ? h("ins", { class: "line added" }, `+ ${line.text}`)
                    : line.kind === "REMOVED"
                      ? h("del", { class: "line removed" }, `− ${line.text}`)
                      : h("span", { class: "line context" }, `  ${line.text}`),
                ),
              ),
            ),
          ),
        ),
      );
      focusOn(caption);
    } catch (error) {
      const shown = notice("error", describe(error));
      replaceChildren(diffSlot, shown);
      focusOn(shown);
    }
  }

  async function restore(number: number): Promise<void> {
    const p = page;
    if (!p) return;
    const ask =
      `Restore revision ${number}? Its text becomes the page's text again, as a new revision ` +
      "(what was written since is merged with it, where it does not overlap). Every revision stays in the history.";
    if (!window.confirm(ask)) return;
    try {
      const data = await ctx.session.request<{
        restorePageRevision: { merged: boolean; page: { revision: number }; revision: { number: number } };
      }>(RESTORE_PAGE_REVISION, { pageId, revision: number, baseRevision: p.revision, summary: `Restored revision ${number}` });
      const result = data.restorePageRevision;
      await reload();
      showOutcome(
        result.revision.number === p.revision
          ? notice("info", `Revision ${number} has the text the page has now: nothing changed.`)
          : notice("success", h("strong", {}, `Revision ${number} restored `), `as revision ${result.revision.number}.`),
      );
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.hasCode("CONFLICT")) {
        conflictShown = true;
        showConflict(error, p.revision);
        await reload();
      } else {
        showOutcome(notice("error", describe(error)));
      }
    }
  }

  /** Put a result in the outcome slot and take the reader there. */
  function showOutcome(shown: HTMLElement): void {
    replaceChildren(outcome, shown);
    focusOn(shown);
  }

  /** The editor, on the page as loaded or on a text made from revision `start.base`. */
  function openEditor(start?: { title: string; body: string; base: number }): void {
    const p = page;
    if (!p || editing) return;
    const titleInput = h("input", { type: "text", name: "title", required: true });
    const bodyInput = h("textarea", { name: "body", rows: 14 });
    const summary = h("input", { type: "text", name: "summary" });
    titleInput.value = start?.title ?? p.title;
    bodyInput.value = start?.body ?? p.body;
    summary.value = keptSummary;
    keptSummary = "";
    const base = start?.base ?? p.revision;
    const opened = { title: titleInput.value, body: bodyInput.value };
    const fields = { title: titleInput, body: bodyInput, summary, start: opened };
    editing = start
      ? { base, baseTitle: null, baseBody: null, ...fields }
      : { base, baseTitle: p.title, baseBody: p.body, ...fields };
    const edit = editing;
    releaseEditor?.();
    releaseEditor = keepUnsaved(() => editorDirty(edit));
    conflictShown = false;
    const saveButton = h("button", { type: "submit" }, "Save");
    replaceChildren(outcome);
    replaceChildren(draftSlot);
    replaceChildren(actions);
    replaceChildren(
      editorSlot,
      h(
        "form",
        {
          class: "panel editor",
          "aria-label": "Edit page",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            // not `disabled`: a disabled button drops the focus it has
            if (saveButton.getAttribute("aria-disabled") === "true") return;
            saveButton.setAttribute("aria-disabled", "true");
            try {
              await save(summary.value.trim());
            } finally {
              saveButton.removeAttribute("aria-disabled");
            }
          },
          onkeydown: (event: Event) => {
            if ((event as KeyboardEvent).key !== "Escape") return;
            event.preventDefault();
            cancelEditor();
          },
        },
        h("p", { "data-testid": "base-revision" }, `Editing from revision ${base}.`),
        field("Title", titleInput),
        limitText(titleInput, TITLE_MAX_LENGTH),
        field("Text (Markdown)", bodyInput),
        limitText(bodyInput, PAGE_MAX_LENGTH),
        field("Summary of your change", summary, "Optional; shown in the history."),
        limitText(summary, SUMMARY_MAX_LENGTH),
        h("div", { class: "row" }, saveButton, h("button", { type: "button", class: "secondary", onclick: () => cancelEditor() }, "Cancel")),
      ),
    );
    bodyInput.focus();
    void setEditing(true);
  }

  function editorDirty(edit: Editing): boolean {
    return (
      edit.title.value !== edit.start.title || edit.body.value !== edit.start.body || edit.summary.value.trim() !== ""
    );
  }

  function cancelEditor(): void {
    if (editing && !confirmDiscard(editorDirty(editing), "Discard your changes to this page?")) return;
    closeEditor();
    if (editButton) focusOn(editButton);
  }

  function closeEditor(): void {
    editing = null;
    releaseEditor?.();
    releaseEditor = null;
    replaceChildren(editorSlot);
    replaceChildren(liveNotice);
    if (page) show(page);
    void setEditing(false);
  }

  async function save(summary: string): Promise<void> {
    const edit = editing;
    if (!edit) return;
    const yours = { title: edit.title.value.trim(), body: edit.body.value };
    try {
      const data = await ctx.session.request<{
        updatePage: { merged: boolean; page: { revision: number }; revision: { number: number } };
      }>(UPDATE_PAGE, {
        pageId,
        baseRevision: edit.base,
        title: edit.baseTitle === null || yours.title !== edit.baseTitle ? yours.title : null,
        body: edit.baseBody === null || yours.body !== edit.baseBody ? yours.body : null,
        summary,
      });
      const result = data.updatePage;
      closeEditor();
      await reload();
      showOutcome(
        result.merged
          ? notice(
              "success",
              h("strong", {}, "Merged. "),
              `Your edit began on revision ${edit.base}; others changed the page since, in other places. `,
              `Both are kept in revision ${result.revision.number}.`,
            )
          : result.revision.number === edit.base
            ? notice("info", "Nothing changed, so no new revision was made.")
            : notice("success", h("strong", {}, "Saved "), `as revision ${result.revision.number}.`),
      );
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.hasCode("CONFLICT")) {
        conflictShown = true;
        closeEditor();
        keptSummary = summary; // the draft keeps the text; the summary waits for "Edit again"
        showConflict(error, edit.base);
        await reload(); // show the revision the edit collided with
      } else {
        const shown = notice("error", describe(error));
        replaceChildren(outcome, shown);
        shown.scrollIntoView({ block: "nearest" }); // focus stays in the editor, to try again
      }
    }
  }

  function showConflict(error: GraphQLRequestError, base: number): void {
    const extensions = error.errors.find((e) => e.extensions?.code === "CONFLICT")?.extensions ?? {};
    const hunks = (extensions.conflicts ?? []) as ConflictHunk[];
    const current = typeof extensions.currentRevision === "number" ? extensions.currentRevision : null;
    const side = (caption: string, text: string, kind: string) =>
      h("figure", { class: `side ${kind}` }, h("figcaption", {}, caption), h("pre", {}, text || "(nothing)"));
    const heading = h("h2", { id: "conflict-heading", tabindex: -1 }, "Not saved: your edit overlaps with changes made meanwhile");
    replaceChildren(
      outcome,
      h(
        "section",
        { class: "conflict", "aria-labelledby": "conflict-heading" },
        heading,
        h("p", {}, error.message),
        hunks.map((hunk) =>
          h(
            "div",
            { class: "conflict-hunk" },
            h("h3", {}, hunk.field === "title" ? "Title" : `Text, from line ${hunk.baseStartLine}`),
            h(
              "div",
              { class: "sides" },
              side(`Revision ${base}, where you began`, hunk.base, "base"),
              side(current ? `Now, in revision ${current}` : "Now", hunk.current, "current"),
              side("Yours", hunk.yours, "yours"),
            ),
          ),
        ),
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              onclick: async () => {
                const summary = keptSummary;
                await reload();
                replaceChildren(outcome);
                conflictShown = false;
                keptSummary = summary;
                const draft = page?.draft;
                if (draft) openResolver(draft.proposal);
                else openEditor();
              },
            },
            current ? `Edit again from revision ${current}` : "Edit again",
          ),
          h("button", { type: "button", class: "secondary", onclick: () => void discardDraft() }, "Discard my draft"),
        ),
      ),
    );
    focusOn(heading);
    announce("Not saved: your edit overlaps with changes made meanwhile. Your edit is kept as your draft.");
  }

  /** Your draft merged with the page now: the changes of both sides that do not overlap are
   * applied; for each conflict a group of radio buttons chooses what to keep, and the editor
   * then opens on the result, to be saved from the proposal's current revision. */
  function openResolver(proposal: MergeProposal): void {
    const p = page;
    if (!p || editing || resolving) return;
    conflictShown = false;
    replaceChildren(outcome);
    replaceChildren(draftSlot);
    replaceChildren(actions);
    const choices = new Map<ConflictHunk, () => string>();
    let groups = 0;
    const group = (hunk: ConflictHunk, caption: string, both: boolean): HTMLFieldSetElement => {
      const name = `conflict-${++groups}`;
      const chosen = () => fieldset.querySelector<HTMLInputElement>("input:checked")?.value ?? "current";
      choices.set(hunk, chosen);
      const option = (value: string, label: string, text: string | null) => {
        const id = `${name}-${value}`;
        const shown = text === null ? null : h("pre", { id: `${id}-text` }, text || "(nothing)");
        return h(
          "div",
          { class: "choice" },
          h("input", { type: "radio", id, name, value, required: true, "aria-describedby": shown ? shown.id : null }),
          " ",
          h("label", { for: id }, label),
          shown,
        );
      };
      const fieldset = h(
        "fieldset",
        {},
        h("legend", {}, caption),
        option("current", `Keep the text now, in revision ${proposal.currentRevision}`, hunk.current),
        option("yours", "Keep yours", hunk.yours),
        both ? option("both", "Keep both: the text now, then yours", null) : null,
        h("details", {}, h("summary", {}, `Where you began, in revision ${proposal.baseRevision}`), h("pre", {}, hunk.base || "(nothing)")),
      );
      return fieldset;
    };
    const pick = (hunk: ConflictHunk): string => {
      const choice = choices.get(hunk)?.() ?? "current";
      if (choice === "yours") return hunk.yours;
      if (choice !== "both") return hunk.current;
      const now = hunk.current && !hunk.current.endsWith("\n") && hunk.yours ? `${hunk.current}\n` : hunk.current;
      return now + hunk.yours;
    };
    const compose = () => ({
      title: proposal.titleConflict ? pick(proposal.titleConflict) : (proposal.title ?? p.title),
      body: proposal.body.map((part) => (part.__typename === "MergedLines" ? part.text : pick(part))).join(""),
      base: proposal.currentRevision,
    });
    if (proposal.conflictCount === 0) {
      openEditor(compose());
      replaceChildren(
        outcome,
        notice("info", `Your draft now merges with revision ${proposal.currentRevision} without overlap: check it and save.`),
      );
      return;
    }
    const summary = keptSummary;
    resolving = true;
    const heading = h("h2", { id: "resolver-heading", tabindex: -1 }, `Finish your draft on revision ${proposal.currentRevision}`);
    const conflicts = proposal.body.filter((part) => part.__typename === "PageConflictHunk");
    replaceChildren(
      editorSlot,
      h(
        "form",
        {
          class: "panel resolver",
          "aria-labelledby": "resolver-heading",
          onsubmit: (event: Event) => {
            event.preventDefault();
            const text = compose();
            resolving = false;
            replaceChildren(editorSlot);
            keptSummary = summary;
            openEditor(text);
          },
        },
        heading,
        h(
          "p",
          {},
          `Your draft began on revision ${proposal.baseRevision}. What others changed since and what you changed are both kept `,
          "wherever they do not overlap. Where both changed the same lines, choose what to keep; then check the text in the editor and save.",
        ),
        proposal.titleConflict ? group(proposal.titleConflict, "Title", false) : null,
        conflicts.map((hunk, index) =>
          group(hunk, `Text, from line ${hunk.baseStartLine} of revision ${proposal.baseRevision} (conflict ${index + 1} of ${conflicts.length})`, true),
        ),
        h(
          "div",
          { class: "row" },
          h("button", { type: "submit" }, "Continue in the editor"),
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              onclick: () => {
                closeResolver();
                if (editButton) focusOn(editButton);
              },
            },
            "Cancel",
          ),
          h("button", { type: "button", class: "secondary", onclick: () => void discardDraft() }, "Discard my draft"),
        ),
      ),
    );
    heading.focus();
  }

  function closeResolver(): void {
    resolving = false;
    replaceChildren(editorSlot);
    if (page) show(page);
  }

  async function discardDraft(): Promise<void> {
    const ask = "Discard your draft? The edit that did not merge is lost; the page stays as it is.";
    if (!window.confirm(ask)) return;
    try {
      await ctx.session.request(DISCARD_PAGE_DRAFT, { pageId });
      conflictShown = false;
      keptSummary = "";
      if (resolving) closeResolver();
      await reload();
      showOutcome(notice("info", "Your draft is discarded."));
    } catch (error) {
      showOutcome(notice("error", describe(error)));
    }
  }

  /** The page's discussion: its comments, oldest first, and a form to add one. */
  function pageComments(): {
    element: HTMLElement;
    more: () => Promise<void>;
    allowPosting: () => void;
    release: () => void;
  } {
    const list = h("ol", { class: "comments", "aria-labelledby": "comments-heading" });
    const count = h("span", { class: "muted", "data-testid": "comment-count" });
    const status = h("div");
    const moreSlot = h("div");
    const formSlot = h("div");
    const shown = new Set<string>();
    let endCursor: string | null = null;
    let loading: Promise<void> | null = null;
    const body = h("textarea", { name: "comment", rows: 3 });
    const release = keepUnsaved(() => body.value.trim() !== "");
    let posting = false;
    const form = h(
      "form",
      {
        class: "comment-form",
        "aria-label": "Comment on this page",
        onsubmit: (event: Event) => {
          event.preventDefault();
          void post();
        },
      },
      field("Your comment (Markdown)", body, "Ctrl+Enter posts it."),
      limitText(body, POST_MAX_LENGTH),
      h("button", { type: "submit" }, "Post comment"),
    );
    body.addEventListener("keydown", (event: KeyboardEvent) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    const element = h(
      "section",
      { class: "panel discussion", "aria-labelledby": "comments-heading" },
      h("h2", { id: "comments-heading" }, "Discussion ", count),
      list,
      moreSlot,
      status,
      formSlot,
    );

    function item(comment: PageComment): HTMLLIElement {
      shown.add(comment.id);
      return h(
        "li",
        { "data-comment-id": comment.id, tabindex: -1 },
        h(
          "article",
          { class: "post", "aria-label": `Comment by ${comment.author.name}` },
          h(
            "header",
            {},
            h("strong", {}, comment.author.name),
            " · ",
            time(comment.createdAt),
            comment.editedAt ? " · edited" : null,
            comment.visibility === "INTERNAL" ? h("span", { class: "tag internal" }, "Internal") : null,
          ),
          serverHtml("markdown", comment.bodyHtml),
        ),
      );
    }

    function showCount(total: number): void {
      replaceChildren(count, total === 1 ? "(1 comment)" : `(${total} comments)`);
      if (total === 0 && list.childElementCount === 0) {
        replaceChildren(status, h("p", { class: "muted", "data-testid": "no-comments" }, "No comments yet."));
      } else {
        status.querySelector("[data-testid=no-comments]")?.remove();
      }
    }

    /** The comments after the last one shown (all of them, at first); with `focusFirst`,
     * focus moves to the first one added. */
    async function fetchMore(focusFirst: boolean): Promise<void> {
      try {
        const data = await ctx.session.request<{ page: { comments: CommentsPage } | null }>(PAGE_COMMENTS, {
          id: pageId,
          after: endCursor,
        });
        const connection = data.page?.comments;
        if (!connection || destroyed) return;
        const added = connection.edges.filter(({ node }) => !shown.has(node.id)).map(({ node }) => item(node));
        list.append(...added);
        endCursor = connection.pageInfo.endCursor ?? endCursor;
        showCount(connection.totalCount);
        if (connection.pageInfo.hasNextPage) {
          replaceChildren(
            moreSlot,
            h("button", { type: "button", class: "secondary", onclick: () => void fetchMore(true) }, "Show more comments"),
          );
        } else {
          const hadFocus = moreSlot.contains(document.activeElement);
          replaceChildren(moreSlot);
          if (hadFocus && added.length === 0) focusOn(list);
        }
        if (focusFirst && added[0]) focusOn(added[0]);
      } catch (error) {
        replaceChildren(moreSlot, notice("error", describe(error)));
      }
    }

    function more(): Promise<void> {
      // one fetch at a time, so a comment is never added twice
      const next = (loading ?? Promise.resolve()).then(() => fetchMore(false));
      loading = next;
      return next;
    }

    async function post(): Promise<void> {
      const p = page;
      const text = body.value.trim();
      if (!p || posting) return;
      if (!text) {
        body.focus();
        return;
      }
      posting = true;
      form.setAttribute("aria-busy", "true");
      try {
        const data = await ctx.session.request<{ postMicropost: { micropost: PageComment } }>(POST_PAGE_COMMENT, {
          projectId: p.project.id,
          pageId,
          body: text,
        });
        body.value = "";
        body.dispatchEvent(new Event("input"));
        const added = item(data.postMicropost.micropost);
        list.append(added);
        showCount(shown.size);
        replaceChildren(status);
        focusOn(added);
        announce("Your comment is posted.");
      } catch (error) {
        replaceChildren(status, notice("error", describe(error)));
        body.focus();
      } finally {
        posting = false;
        form.removeAttribute("aria-busy");
      }
    }

    return { element, more, allowPosting: () => replaceChildren(formSlot, form), release };
  }

  async function setEditing(flag: boolean): Promise<void> {
    try {
      await ctx.session.request(SET_PAGE_EDITING, { pageId, editing: flag });
    } catch {
      // presence is a courtesy: not being shown as editing is no reason to stop
    }
  }

  function subscribe(p: PageData): void {
    subscriptions.push(
      ctx.live.subscribe<PresenceData>(PAGE_PRESENCE, { pageId }, {
        next: (data) =>
          replaceChildren(
            people,
            data.pagePresence.people.map((person) =>
              h(
                "li",
                { "data-user-id": person.user.id },
                person.user.name,
                person.user.id === ctx.user.id ? h("small", { class: "muted" }, " (you)") : null,
                person.editing ? h("span", { class: "tag editing" }, "editing") : null,
              ),
            ),
          ),
      }) as LiveSubscription<unknown>,
      ctx.live.subscribe<ProjectEventsData>(
        PROJECT_EVENTS,
        { projectId: p.project.id, after: p.project.timelineCursor },
        {
          cursor: (data) => data.projectTimeline.cursor,
          next: (data) => {
            const event = data.projectTimeline;
            if (event.__typename === "ResyncRequired") {
              if (!editing) void reload();
              void comments.more();
              return;
            }
            if (event.__typename === "MicropostPosted" && event.actor.id !== ctx.user.id) {
              void comments.more(); // a comment on this page, perhaps: the new ones are added
              return;
            }
            if (event.__typename !== "PageUpdated" || event.page?.id !== pageId) return;
            if (event.actor.id === ctx.user.id) return; // our own save reloads by itself
            if (editing || resolving) {
              replaceChildren(
                liveNotice,
                notice(
                  "info",
                  `${event.actor.name} saved revision ${event.revision} while you were editing. `,
                  "When you save, your edit is merged with it, or you are shown where the two overlap.",
                ),
              );
            } else {
              replaceChildren(liveNotice, notice("info", `${event.actor.name} saved revision ${event.revision}.`));
              if (!conflictShown) replaceChildren(outcome);
              void reload();
            }
          },
        },
      ) as LiveSubscription<unknown>,
    );
  }

  return {
    destroy() {
      destroyed = true;
      comments.release();
      releaseEditor?.();
      for (const subscription of subscriptions) subscription.stop();
    },
  };
}
