// One request (#/requests/ID): its status with the changes the viewer may make, next step and
// expected answer time; the answers; the conversation with a reply box (staff may write
// internal notes, marked as such); the checklist of expected documents with upload; the
// assignee and due date (staff), the participants (and adding one); and its history. All
// of it follows `requestEvents` live: what others change appears in place, is announced,
// and leaves focus and anything being typed where they were.

import ADD_REQUEST_PARTICIPANT from "../../operations/AddRequestParticipant.graphql";
import ASSIGN_REQUEST from "../../operations/AssignRequest.graphql";
import CHANGE_REQUEST_STATUS from "../../operations/ChangeRequestStatus.graphql";
import REOPEN_REQUEST from "../../operations/ReopenRequest.graphql";
import REPLY_TO_REQUEST from "../../operations/ReplyToRequest.graphql";
import REQUEST_EVENTS from "../../operations/RequestEvents.graphql";
import REQUEST_VIEW from "../../operations/RequestView.graphql";
import SET_REQUEST_DUE_DATE from "../../operations/SetRequestDueDate.graphql";
import { describe, failure, isNotFound, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { absoluteTime, announce, field, focusOn, h, keepFocus, notice, replaceChildren, serverHtml, time } from "./dom";
import type { LiveSubscription } from "./live";
import type { RequestEventData } from "./requests-list";
import {
  answersOf,
  attachmentLinks,
  fileSize,
  formOf,
  requestsHome,
  requestStatusAction,
  requestStatusBadge,
  requestStatusLabel,
  slaLine,
  uploadFile,
  type AttachmentFile,
  type ExpectedDocument,
  type HistoryEntry,
  type RequestDetail,
  type RequestMessage,
  type RequestStatus,
} from "./requests";
import { limitText, POST_MAX_LENGTH, REASON_MAX_LENGTH, stripped } from "./text";
import { confirmDiscard, keepUnsaved } from "./unsaved";

interface RequestViewData {
  request: RequestDetail | null;
}

type Payload = Record<string, { request: RequestDetail | null } | null>;

function answerText(value: unknown, labels: Map<string, string>): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.map((item) => labels.get(String(item)) ?? String(item)).join(", ") || "—";
  return labels.get(String(value)) ?? String(value);
}

function historyText(entry: HistoryEntry): (Node | string)[] {
  const who = entry.actor?.name ?? "Someone";
  const reason = entry.reason ? h("q", {}, entry.reason) : "";
  if (!entry.fromStatus) return [h("strong", {}, who), " submitted the request ", requestStatusBadge(entry.toStatus)];
  return [
    h("strong", {}, who),
    " changed the status from ",
    requestStatusBadge(entry.fromStatus),
    " to ",
    requestStatusBadge(entry.toStatus),
    reason,
  ];
}

export function requestView(ctx: AppContext, main: HTMLElement, requestId: string): View {
  const staff = isStaff(ctx.user);
  let destroyed = false;
  let subscription: LiveSubscription<RequestEventData> | null = null;
  let request: RequestDetail | null = null;
  const releases = new Set<() => void>();
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;

  const statusSlot = h("span", { class: "request-status" });
  const nextStep = h("p", { class: "next-step", "data-testid": "next-step" });
  const sla = h("p", { class: "request-sla", "data-testid": "request-sla" });
  const statusPanel = h("div");
  const teamPanel = h("div");
  const participantsPanel = h("div");
  const documentsPanel = h("div");
  const answers = h("dl", { class: "answers" });
  const messages = h("ol", { class: "conversation", "aria-label": "Conversation, oldest first" });
  const emptyConversation = h("p", { class: "muted empty" }, "No messages yet.");
  const history = h("ol", { class: "request-history", "aria-label": "History, oldest first" });
  const liveProblem = h("div");
  const shownMessages = new Set<string>();
  let shownStatus = "";
  let composer: HTMLElement | null = null;

  setTitle("Request");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  void load(true);

  async function load(first = false): Promise<void> {
    let data: RequestViewData;
    try {
      data = await ctx.session.request<RequestViewData>(REQUEST_VIEW, { id: requestId });
    } catch (error) {
      if (destroyed) return;
      if (!first) {
        replaceChildren(liveProblem, notice("error", "This request could not be brought up to date: ", describe(error)));
        return;
      }
      if (isNotFound(error)) notFound();
      else {
        replaceChildren(main, h("h1", { tabindex: -1 }, "Request"), failure(error, retry));
        focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      }
      return;
    }
    if (destroyed) return;
    if (!data.request) {
      if (first) notFound();
      return;
    }
    const before = request;
    request = data.request;
    if (first) render(request);
    else update(request, before);
    if (subscription === null) startLive();
  }

  function retry(): void {
    replaceChildren(main, h("p", { class: "muted", role: "status" }, "Loading…"));
    focusOn(main);
    void load(true);
  }

  function notFound(): void {
    setTitle("Request not found");
    const home = requestsHome(ctx);
    replaceChildren(
      main,
      h("h1", { tabindex: -1 }, "Request not found"),
      notice("error", "No request with that ID exists, or you may not see it."),
      h("p", {}, h("a", { href: home.href }, `Back to ${home.label.toLowerCase()}`)),
    );
    focusOn(main.querySelector("h1"));
  }

  function startLive(): void {
    subscription = ctx.live.subscribe<RequestEventData>(REQUEST_EVENTS, { after: null }, {
      next: ({ requestEvents: event }) => {
        if (event.request && event.request.id !== requestId) return;
        if (event.__typename !== "ResyncRequired" && !event.request) return;
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => {
          if (!destroyed) void load();
        }, 150);
      },
      cursor: ({ requestEvents: event }) => event.cursor,
      error: (error) => replaceChildren(liveProblem, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  function render(r: RequestDetail): void {
    setTitle(`${r.number} ${r.title}`);
    const home = requestsHome(ctx);
    composer = replyForm(r);
    replaceChildren(
      main,
      h(
        "nav",
        { class: "breadcrumb", "aria-label": "Breadcrumb" },
        h("a", { href: home.href }, home.label),
        " › ",
        r.number,
      ),
      h(
        "header",
        { class: "page-header" },
        h("h1", { tabindex: -1 }, h("span", { class: "reference" }, r.number), " ", r.title),
        statusSlot,
        h("div", { class: "meta" }, nextStep, sla),
      ),
      liveProblem,
      h(
        "div",
        { class: "columns" },
        h(
          "aside",
          { class: "secondary", "aria-label": "About this request" },
          h("section", { class: "panel", "aria-labelledby": "request-status-heading" }, h("h2", { id: "request-status-heading" }, "Status"), statusPanel),
          h("section", { class: "panel", "aria-labelledby": "request-documents-heading" }, h("h2", { id: "request-documents-heading" }, "Expected documents"), documentsPanel),
          h("section", { class: "panel", "aria-labelledby": "request-team-heading" }, h("h2", { id: "request-team-heading" }, "Who is on it"), teamPanel),
          h("section", { class: "panel", "aria-labelledby": "request-participants-heading" }, h("h2", { id: "request-participants-heading" }, "Participants"), participantsPanel),
        ),
        h(
          "div",
          { class: "primary" },
          h("section", { class: "panel", "aria-labelledby": "request-answers-heading" }, h("h2", { id: "request-answers-heading" }, "Answers"), answers),
          h(
            "section",
            { "aria-labelledby": "request-conversation-heading", class: "request-conversation" },
            h("h2", { id: "request-conversation-heading" }, "Conversation"),
            emptyConversation,
            messages,
            composer,
          ),
          h(
            "section",
            { class: "panel", "aria-labelledby": "request-history-heading" },
            h("h2", { id: "request-history-heading" }, "History"),
            history,
          ),
        ),
      ),
    );
    update(r, null);
    focusOn(main.querySelector("h1"));
  }

  /** Bring every part up to date with `r`; `before` is what was shown (null: nothing). */
  function update(r: RequestDetail, before: RequestDetail | null): void {
    replaceChildren(statusSlot, requestStatusBadge(r.status, "request-status"));
    replaceChildren(nextStep, r.nextStep ? [h("strong", {}, "Next step: "), r.nextStep] : "");
    nextStep.hidden = !r.nextStep;
    replaceChildren(sla, slaLine(r, staff), r.dueAt ? [" · due ", absoluteTime(r.dueAt)] : "");
    showStatus(r, before);
    keepFocus(documentsPanel, () => showDocuments(r));
    keepFocus(teamPanel, () => showTeam(r));
    keepFocus(participantsPanel, () => showParticipants(r));
    showAnswers(r);
    showMessages(r);
    replaceChildren(
      history,
      r.history.map((entry) => h("li", { class: "activity" }, ...historyText(entry), " ", time(entry.createdAt))),
    );
    composer?.toggleAttribute("hidden", r.closed && !staff);
    const hint = composer?.querySelector<HTMLElement>("#request-reply-hint");
    if (hint && hint.textContent !== replyHint(r)) hint.textContent = replyHint(r);
    if (before && before.status !== r.status) {
      announce(`Status changed to ${requestStatusLabel(r.status)}.`);
    }
    if (before) {
      const fresh = r.messages.filter((m) => !before.messages.some((old) => old.id === m.id) && m.author?.id !== ctx.user.id);
      for (const message of fresh) announce(`New message from ${message.author?.name ?? "someone"}.`);
    }
  }

  function showAnswers(r: RequestDetail): void {
    const definition = formOf({ id: r.type.id, name: r.type.name, description: "", form: r.type.form });
    const given = answersOf(r);
    const hints = definition.ui.fields ?? {};
    const properties = definition.schema.properties ?? {};
    const order = [...(definition.ui.order ?? []), ...Object.keys(given)].filter((name, i, all) => all.indexOf(name) === i && name in given);
    replaceChildren(
      answers,
      h("dt", {}, "Type"),
      h("dd", {}, r.type.name),
      r.project ? [h("dt", {}, "Project"), h("dd", {}, h("a", { href: link("projects", r.project.id) }, r.project.name))] : null,
      h("dt", {}, "Requested by"),
      h("dd", {}, r.requester?.name ?? "—", " ", time(r.createdAt)),
      order.flatMap((name) => {
        const schema = properties[name] ?? {};
        const labels = new Map<string, string>();
        for (const option of (schema.items ?? schema).oneOf ?? []) labels.set(String(option.const), option.title ?? String(option.const));
        const hint = hints[name];
        const value = given[name];
        const files = hint?.kind === "attachments" && Array.isArray(value) ? `${value.length} file${value.length === 1 ? "" : "s"}` : null;
        return [
          h("dt", {}, hint?.label ?? schema.title ?? name),
          h("dd", { class: hint?.kind === "longText" ? "long" : null }, files ?? answerText(value, labels), hint?.unit && value !== null && value !== undefined ? ` ${hint.unit}` : ""),
        ];
      }),
    );
  }

  function messageItem(message: RequestMessage): HTMLElement {
    const internal = message.visibility === "INTERNAL";
    const mine = message.author?.id === ctx.user.id;
    return h(
      "li",
      {},
      h(
        "article",
        {
          class: `post message${internal ? " internal" : ""}`,
          "data-message-id": message.id,
          "aria-label": `${internal ? "Internal note: " : ""}${mine ? "your message" : `${message.author?.name ?? "Someone"}'s message`} of ${absoluteTime(message.createdAt)}`,
        },
        h(
          "header",
          {},
          h("strong", {}, message.author?.name ?? "Someone"),
          " ",
          time(message.createdAt),
          internal ? h("span", { class: "tag internal" }, "Internal note: staff only") : null,
        ),
        serverHtml("post-body markdown", message.bodyHtml),
        attachmentLinks(message.attachments),
      ),
    );
  }

  function showMessages(r: RequestDetail): void {
    for (const message of r.messages) {
      if (shownMessages.has(message.id)) continue;
      shownMessages.add(message.id);
      messages.append(messageItem(message));
    }
    emptyConversation.hidden = shownMessages.size > 0;
  }

  function showStatus(r: RequestDetail, before: RequestDetail | null): void {
    const key = `${r.status}:${r.allowedTransitions.join(",")}`;
    if (key === shownStatus) return;
    shownStatus = key;
    const inUse = before !== null && statusPanel.contains(document.activeElement);
    const typedReason = statusPanel.querySelector<HTMLInputElement>("input[name=reason]")?.value ?? "";
    const typedNext = statusPanel.querySelector<HTMLInputElement>("input[name=nextStep]")?.value ?? "";
    const typedDocuments = statusPanel.querySelector<HTMLTextAreaElement>("textarea[name=expectedDocuments]")?.value ?? "";
    const changedBySomeoneElse = inUse ? notice("info", "The status changed meanwhile: now ", requestStatusBadge(r.status), ".") : null;
    if (r.allowedTransitions.length === 0) {
      replaceChildren(
        statusPanel,
        changedBySomeoneElse,
        h("p", {}, requestStatusBadge(r.status)),
        reopenForm(r),
        h("p", { class: "muted" }, r.closed ? "This request is closed." : staff ? "No change of status is possible now." : "The team moves this request on."),
      );
      focusOn(changedBySomeoneElse);
      return;
    }
    const select = h(
      "select",
      { name: "status", "data-action": "status" },
      r.allowedTransitions.map((status) => h("option", { value: status }, requestStatusAction(status))),
    );
    const reason = h("input", { type: "text", name: "reason", "data-action": "reason", autocomplete: "off" });
    reason.value = typedReason;
    const reasonField = staff
      ? field("Reason or question", reason, "The customer reads it; for “Ask for information”, say what you need.")
      : field("Reason", reason, "Optional; the team reads it.");
    const next = staff ? h("input", { type: "text", name: "nextStep", "data-action": "next-step", autocomplete: "off" }) : null;
    if (next) next.value = typedNext;
    const documents = staff ? h("textarea", { name: "expectedDocuments", rows: 2, "data-action": "documents" }) : null;
    if (documents) documents.value = typedDocuments;
    const feedback = h("div");
    let busy = false;
    const form = h(
      "form",
      {
        "aria-label": "Change the status",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (busy) return;
          const status = select.value as RequestStatus;
          if ((status === "WITHDRAWN" || status === "REJECTED") && !window.confirm(`${requestStatusAction(status)} this request?`)) return;
          busy = true;
          replaceChildren(feedback);
          try {
            const input: Record<string, unknown> = { requestId, status, reason: stripped(reason.value) };
            if (next && stripped(next.value)) input.nextStep = stripped(next.value);
            const asked = (documents?.value ?? "").split("\n").map(stripped).filter(Boolean);
            if (asked.length) input.expectedDocuments = asked;
            const data = await ctx.session.request<Payload>(CHANGE_REQUEST_STATUS, { input });
            const changed = Object.values(data)[0]?.request;
            reason.value = "";
            if (next) next.value = "";
            if (documents) documents.value = "";
            if (changed) {
              request = changed;
              shownStatus = "";
              update(changed, null);
              const done = notice("success", "Status changed to ", requestStatusBadge(changed.status), ".");
              statusPanel.prepend(done);
              focusOn(done);
            }
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          } finally {
            busy = false;
          }
        },
      },
      h("p", {}, "Now ", requestStatusBadge(r.status)),
      field("New status", select),
      reasonField,
      limitText(reason, REASON_MAX_LENGTH),
      next ? field("Next step shown to the customer", next, "Optional: what happens next, in a line.") : null,
      documents ? field("Documents to ask for", documents, "Optional: one per line; each is added to the checklist.") : null,
      h("div", { class: "row" }, h("button", { type: "submit", "data-action": "change-status" }, "Change status")),
      feedback,
    );
    replaceChildren(statusPanel, changedBySomeoneElse, form);
    if (inUse) focusOn(changedBySomeoneElse);
  }

  /** A resolved request's requester may reopen it while its type allows. */
  function reopenForm(r: RequestDetail): HTMLElement | null {
    if (r.status !== "RESOLVED" || r.closed || r.requester?.id !== ctx.user.id) return null;
    const reason = h("input", { type: "text", name: "reopenReason", "data-action": "reopen-reason", autocomplete: "off" });
    const feedback = h("div");
    return h(
      "form",
      {
        "aria-label": "Reopen",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(feedback);
          try {
            shownStatus = "";
            await apply(REOPEN_REQUEST, { requestId, reason: stripped(reason.value) });
            announce("The request is reopened.");
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          }
        },
      },
      field("Why reopen it?", reason, "Optional; the team reads it."),
      h("div", { class: "row" }, h("button", { type: "submit", class: "secondary", "data-action": "reopen" }, "Reopen")),
      feedback,
    );
  }

  function uploadControl(label: string, action: string, onFile: (file: AttachmentFile) => Promise<void>): HTMLElement {
    const input = h("input", { type: "file", "data-action": action });
    const status = h("p", { class: "upload-status", role: "status" });
    input.addEventListener("change", async () => {
      const file = input.files?.[0];
      input.value = "";
      if (!file) return;
      replaceChildren(status, `Uploading ${file.name}…`);
      try {
        const attachment = await uploadFile(ctx, file, request?.customer.id ?? null);
        await onFile(attachment);
        replaceChildren(status, `${file.name} (${fileSize(attachment.size)}) added.`);
      } catch (error) {
        replaceChildren(status, h("span", { class: "field-error" }, `${file.name} was not added: ${describe(error)}`));
      }
    });
    return h("div", { class: "upload" }, field(label, input), status);
  }

  function showDocuments(r: RequestDetail): void {
    if (r.expectedDocuments.length === 0) {
      replaceChildren(documentsPanel, h("p", { class: "muted" }, "No documents are expected."));
      return;
    }
    const missing = r.expectedDocuments.filter((doc) => doc.required && !doc.received).length;
    replaceChildren(
      documentsPanel,
      h("p", { class: "muted" }, missing === 0 ? "Everything required has arrived." : `${missing} required document${missing === 1 ? "" : "s"} still missing.`),
      h(
        "ul",
        { class: "checklist" },
        r.expectedDocuments.map((doc: ExpectedDocument) =>
          h(
            "li",
            { class: doc.received ? "received" : "missing", "data-document": doc.name },
            h("span", { class: "check-mark", "aria-hidden": "true" }, doc.received ? "✓" : "○"),
            h("strong", {}, doc.name),
            " ",
            h("span", { class: `tag ${doc.received ? "received-tag" : "missing-tag"}` }, doc.received ? "Received" : doc.required ? "Missing (required)" : "Not yet"),
            attachmentLinks(doc.attachments),
            r.closed
              ? null
              : uploadControl(`Upload ${doc.name}`, `upload-${doc.id}`, async (file) => {
                  await send({ requestId, body: `Uploaded ${doc.name}: ${file.name}`, attachmentIds: [file.id], expectedDocumentId: doc.id });
                  announce(`${doc.name} uploaded.`);
                }),
          ),
        ),
      ),
    );
  }

  function showTeam(r: RequestDetail): void {
    const assignee = h("p", {}, "Assignee: ", r.assignee ? (r.assignee.id === ctx.user.id ? "you" : r.assignee.name) : "nobody yet");
    if (!staff || r.closed) {
      replaceChildren(teamPanel, assignee, r.dueAt ? h("p", {}, "Due ", absoluteTime(r.dueAt)) : null);
      return;
    }
    const people = [...r.customer.accountTeam];
    if (!people.some((person) => person.id === ctx.user.id)) people.unshift({ id: ctx.user.id, name: ctx.user.name });
    const select = h(
      "select",
      { name: "assignee", "data-action": "assignee" },
      people.map((person) => h("option", { value: person.id, selected: person.id === r.assignee?.id }, person.id === ctx.user.id ? `${person.name} (me)` : person.name)),
    );
    const assignFeedback = h("div");
    const assign = h(
      "form",
      {
        "aria-label": "Assign",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(assignFeedback);
          try {
            await apply(ASSIGN_REQUEST, { requestId, assigneeId: select.value });
            announce("Assigned.");
          } catch (error) {
            replaceChildren(assignFeedback, notice("error", describe(error)));
          }
        },
      },
      h("div", { class: "row" }, field("Assign to", select), h("button", { type: "submit", class: "secondary", "data-action": "assign" }, "Assign")),
      assignFeedback,
    );
    const due = h("input", { type: "date", name: "dueAt", "data-action": "due" });
    due.value = r.dueAt ? r.dueAt.slice(0, 10) : "";
    const dueFeedback = h("div");
    const dueForm = h(
      "form",
      {
        "aria-label": "Due date",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(dueFeedback);
          try {
            await apply(SET_REQUEST_DUE_DATE, { requestId, dueAt: due.value ? new Date(`${due.value}T17:00:00`).toISOString() : null });
            announce(due.value ? "Due date saved." : "Due date removed.");
          } catch (error) {
            replaceChildren(dueFeedback, notice("error", describe(error)));
          }
        },
      },
      h("div", { class: "row" }, field("Due date", due), h("button", { type: "submit", class: "secondary", "data-action": "save-due" }, "Save")),
      dueFeedback,
    );
    replaceChildren(teamPanel, assignee, assign, dueForm);
  }

  function showParticipants(r: RequestDetail): void {
    const taking = new Set([r.requester?.id, ...r.participants.map((person) => person.id)]);
    const list = h(
      "ul",
      { class: "people" },
      r.requester ? h("li", {}, r.requester.name, h("small", { class: "muted" }, " (requester)")) : null,
      r.participants.map((person) => h("li", {}, person.name)),
    );
    const mayAdd = !r.closed && (staff || r.requester?.id === ctx.user.id || ctx.user.role === "CUSTOMER_ADMIN");
    const candidates = r.customer.contacts.edges.map((edge) => edge.node).filter((person) => !taking.has(person.id));
    if (!mayAdd || candidates.length === 0) {
      replaceChildren(participantsPanel, list, h("p", { class: "muted" }, "Participants see the request and hear of it like the requester."));
      return;
    }
    const select = h("select", { name: "participant", "data-action": "participant" }, candidates.map((person) => h("option", { value: person.id }, person.name)));
    const feedback = h("div");
    replaceChildren(
      participantsPanel,
      list,
      h(
        "form",
        {
          "aria-label": "Add a participant",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            replaceChildren(feedback);
            const name = select.selectedOptions[0]?.textContent ?? "";
            try {
              await apply(ADD_REQUEST_PARTICIPANT, { requestId, userId: select.value });
              announce(`${name} is a participant now.`);
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
            }
          },
        },
        h("div", { class: "row" }, field("Add a contact", select), h("button", { type: "submit", class: "secondary", "data-action": "add-participant" }, "Add")),
        feedback,
      ),
    );
  }

  /** A mutation whose payload holds the request: shown at once (the live event confirms). */
  async function apply(document: string, input: Record<string, unknown>): Promise<void> {
    const data = await ctx.session.request<Payload>(document, { input });
    const changed = Object.values(data)[0]?.request;
    if (changed && !destroyed) {
      const before = request;
      request = changed;
      update(changed, before);
    }
  }

  async function send(input: Record<string, unknown>): Promise<void> {
    await apply(REPLY_TO_REQUEST, input);
  }

  function replyHint(r: RequestDetail): string {
    return !staff && r.status === "NEEDS_INFO"
      ? "The team is waiting for your answer: sending it moves the request back to them. Markdown; Ctrl+Enter sends."
      : "Markdown; Ctrl+Enter sends.";
  }

  function replyForm(r: RequestDetail): HTMLElement {
    const text = h("textarea", { name: "body", rows: 3, id: "request-reply" });
    const counter = limitText(text, POST_MAX_LENGTH);
    const internal = staff ? h("input", { type: "checkbox", id: "request-reply-internal", name: "internal" }) : null;
    const files: AttachmentFile[] = [];
    const fileList = h("ul", { class: "files" });
    const feedback = h("div");
    const submit = h("button", { type: "submit" }, "Send");
    let busy = false;
    const dirty = (): boolean => stripped(text.value) !== "" || files.length > 0;
    const release = keepUnsaved(dirty);
    releases.add(release);
    const showFiles = (): void =>
      replaceChildren(
        fileList,
        files.map((file) =>
          h(
            "li",
            {},
            file.name,
            " ",
            h(
              "button",
              {
                type: "button",
                class: "link",
                "aria-label": `Remove ${file.name}`,
                onclick: () => {
                  files.splice(files.indexOf(file), 1);
                  showFiles();
                  text.focus();
                },
              },
              "Remove",
            ),
          ),
        ),
      );
    const attach = uploadControl("Attach a file", "attach", async (file) => {
      files.push(file);
      showFiles();
    });
    const form = h(
      "form",
      {
        class: "composer panel",
        "aria-label": "Write a reply",
        onkeydown: (event: Event) => {
          const key = event as KeyboardEvent;
          if (key.key === "Enter" && (key.ctrlKey || key.metaKey) && key.target === text) {
            key.preventDefault();
            form.requestSubmit();
          }
        },
        onsubmit: async (event: Event) => {
          event.preventDefault();
          const body = stripped(text.value);
          if (busy || (!body && files.length === 0)) {
            if (!body) {
              replaceChildren(feedback, notice("error", "Write a message first."));
              text.focus();
            }
            return;
          }
          busy = true;
          submit.setAttribute("aria-disabled", "true");
          replaceChildren(feedback);
          try {
            const visibility = internal?.checked ? "INTERNAL" : "SHARED";
            await send({ requestId, body, visibility, attachmentIds: files.map((file) => file.id) });
            text.value = "";
            text.dispatchEvent(new Event("input"));
            files.splice(0);
            showFiles();
            if (internal) internal.checked = false;
            form.classList.remove("internal");
            announce(visibility === "INTERNAL" ? "Internal note added." : "Reply sent.");
            focusOn(messages.lastElementChild?.querySelector("article") ?? text);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          } finally {
            busy = false;
            submit.removeAttribute("aria-disabled");
          }
        },
      },
      field(staff ? "Reply or internal note" : "Your reply", text, replyHint(r)),
      counter,
      internal ? h("div", { class: "check" }, internal, h("label", { for: internal.id }, "Internal note: only staff can read it")) : null,
      attach,
      fileList,
      h("div", { class: "row" }, submit, h("button", { type: "button", class: "secondary", onclick: () => {
        if (!confirmDiscard(dirty())) return;
        text.value = "";
        text.dispatchEvent(new Event("input"));
        files.splice(0);
        showFiles();
        text.focus();
      } }, "Clear")),
      feedback,
    );
    internal?.addEventListener("change", () => form.classList.toggle("internal", internal.checked));
    return form;
  }

  return {
    destroy() {
      destroyed = true;
      clearTimeout(refreshTimer);
      subscription?.stop();
      for (const release of releases) release();
    },
  };
}
