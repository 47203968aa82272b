// One library document (#/library/ID): its state and validity, what replaced it or what it
// replaces, the current version first with its download link and the history below. A
// contact acknowledges the current version where it is asked of them; staff see who
// acknowledged which version and when, and, where they may change the library, upload a
// new version, publish (validity), ask for acknowledgement and supersede the document. It
// follows `libraryEvents` live: what others do appears in place and is announced, and focus
// and anything being typed stay where they were.

import DOCUMENT from "../../operations/LibraryDocument.graphql";
import ACKNOWLEDGE from "../../operations/LibraryAcknowledge.graphql";
import REQUIRE_ACKNOWLEDGEMENT from "../../operations/LibraryRequireAcknowledgement.graphql";
import SET_VALIDITY from "../../operations/LibrarySetValidity.graphql";
import SUPERSEDE from "../../operations/LibrarySupersede.graphql";
import CHOICES from "../../operations/LibrarySupersedeChoices.graphql";
import { describe, failure, isNotFound, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { absoluteTime, announce, field, focusOn, h, keepFocus, notice, replaceChildren, time } from "./dom";
import {
  downloadLink,
  followLibrary,
  mayManage,
  renewDownloads,
  stateBadge,
  stateLabel,
  typeLabel,
  uploadVersion,
  validityText,
  type CustomerScope,
  type DocumentVersion,
  type LibraryDocumentDetail,
  type LibraryEventData,
} from "./library";
import type { LiveSubscription } from "./live";
import { fileSize } from "./requests";
import type { Connection } from "./types";
import { stripped } from "./text";

interface DocumentData {
  document: LibraryDocumentDetail | null;
  customers: Connection<CustomerScope>;
}

interface ChoicesData {
  documents: Connection<{ id: string; title: string; state: string; customerId: string | null }>;
}

type Payload = Record<string, LibraryDocumentDetail | null>;

/** A moment as the value of a date input (the reader's local day). */
function dateValue(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (value: number): string => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The start of a local day, with its time zone, as the API takes it. */
function startOfDay(value: string): string | null {
  return value ? new Date(`${value}T00:00:00`).toISOString() : null;
}

function versionName(version: DocumentVersion): string {
  return `Version ${version.number}${version.label ? ` (${version.label})` : ""}`;
}

export function libraryDocumentView(ctx: AppContext, main: HTMLElement, documentId: string): View {
  const staff = isStaff(ctx.user);
  let destroyed = false;
  let subscription: LiveSubscription<LibraryEventData> | null = null;
  let shown: LibraryDocumentDetail | null = null;
  let customers: CustomerScope[] = [];
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let shownAck = "";

  const stateSlot = h("span", { class: "library-state" });
  const meta = h("p", { class: "meta muted", "data-testid": "library-meta" });
  const liveProblem = h("div");
  const description = h("div", { class: "library-description" });
  const links = h("div");
  const acknowledgement = h("div");
  const current = h("div");
  const history = h("div");
  const acknowledgements = h("div");
  const manage = h("div");

  renewDownloads(current, () => load());
  renewDownloads(history, () => load());
  setTitle("Document");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));
  void load(true);

  async function load(first = false): Promise<void> {
    let data: DocumentData;
    try {
      data = await ctx.session.request<DocumentData>(DOCUMENT, { id: documentId });
    } catch (error) {
      if (destroyed) return;
      // gone from sight meanwhile (back to draft for a contact): said as for a missing one
      if (isNotFound(error)) notFound();
      else if (!first) {
        replaceChildren(liveProblem, notice("error", "This document could not be brought up to date: ", describe(error)));
      } else {
        replaceChildren(main, h("h1", { tabindex: -1 }, "Document"), failure(error, retry));
        focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      }
      return;
    }
    if (destroyed) return;
    if (!data.document) {
      notFound();
      return;
    }
    customers = data.customers.edges.map((edge) => edge.node);
    const before = shown;
    shown = data.document;
    if (first) render(shown);
    else update(shown, before);
    if (subscription === null) startLive();
  }

  function retry(): void {
    replaceChildren(main, h("p", { class: "muted", role: "status" }, "Loading…"));
    focusOn(main);
    void load(true);
  }

  function notFound(): void {
    setTitle("Document not found");
    replaceChildren(
      main,
      h("h1", { tabindex: -1 }, "Document not found"),
      notice("error", "No document with that ID exists, or you may not see it."),
      h("p", {}, h("a", { href: "#/library" }, "Back to the library")),
    );
    focusOn(main.querySelector("h1"));
  }

  function startLive(): void {
    subscription = followLibrary(ctx, null, {
      next: ({ libraryEvents: event }) => {
        if (event.document?.id !== documentId) return;
        if (event.actor && event.actor.id !== ctx.user.id) {
          if (event.kind === "DOCUMENT_ACKNOWLEDGED") {
            announce(`${event.actor.name} acknowledged version ${event.version?.number ?? ""}.`.replace(" .", "."));
          } else if (event.kind === "VERSION_ADDED") {
            announce(`${event.actor.name} added version ${event.version?.number ?? ""}.`.replace(" .", "."));
          }
        }
        clearTimeout(refreshTimer);
        refreshTimer = setTimeout(() => {
          if (!destroyed) void load();
        }, 150);
      },
      error: (error) => replaceChildren(liveProblem, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  function libraryName(d: LibraryDocumentDetail): string {
    if (d.customerId === null) return "Shared library";
    const customer = customers.find((candidate) => candidate.id === d.customerId);
    return customer ? `Library of ${customer.name}` : "Your company's library";
  }

  function render(d: LibraryDocumentDetail): void {
    setTitle(d.title, "Library");
    const managing = staff && mayManage(ctx, customers, d.customerId);
    replaceChildren(
      main,
      h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: "#/library" }, "Library"), " › ", d.title),
      h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, d.title), stateSlot, meta),
      liveProblem,
      h(
        "div",
        { class: "columns" },
        h(
          "div",
          { class: "primary" },
          description,
          links,
          acknowledgement,
          h("section", { class: "panel", "aria-labelledby": "library-current-heading" }, h("h2", { id: "library-current-heading" }, "Current version"), current),
          h("section", { class: "panel", "aria-labelledby": "library-history-heading" }, h("h2", { id: "library-history-heading" }, "Earlier versions"), history),
          staff
            ? h(
                "section",
                { class: "panel", "aria-labelledby": "library-acknowledgements-heading" },
                h("h2", { id: "library-acknowledgements-heading" }, "Acknowledgements"),
                acknowledgements,
              )
            : null,
        ),
        // after what it acts on: on a phone the document comes first
        managing ? h("aside", { class: "secondary", "aria-label": "Manage this document" }, manage) : null,
      ),
    );
    update(d, null);
    focusOn(main.querySelector("h1"));
  }

  /** Bring every part up to date with `d`; `before` is what was shown (null: nothing). */
  function update(d: LibraryDocumentDetail, before: LibraryDocumentDetail | null): void {
    setTitle(d.title, "Library");
    const heading = main.querySelector("h1");
    if (heading && heading.textContent !== d.title) heading.textContent = d.title;
    replaceChildren(stateSlot, stateBadge(d.state, "library-state"));
    replaceChildren(
      meta,
      typeLabel(d.type),
      " · ",
      libraryName(d),
      " · ",
      validityText(d),
      staff ? ` · owner ${d.owner.name}` : "",
      d.tags.length ? ` · tags: ${d.tags.join(", ")}` : "",
    );
    replaceChildren(description, d.description ? h("p", { class: "library-text" }, d.description) : null);
    replaceChildren(
      links,
      d.supersededBy
        ? notice("info", "Replaced by ", h("a", { href: link("library", d.supersededBy.id) }, d.supersededBy.title), ` (${stateLabel(d.supersededBy.state).toLowerCase()}).`)
        : null,
      d.supersedes.length
        ? h("p", {}, "Replaces ", d.supersedes.flatMap((old, i) => [i ? ", " : "", h("a", { href: link("library", old.id) }, old.title)]), ".")
        : null,
    );
    const ackKey = [d.state, d.requiresAcknowledgement, d.needsMyAcknowledgement, d.currentVersion?.id ?? ""].join("|");
    if (ackKey !== shownAck) {
      shownAck = ackKey;
      const active = document.activeElement;
      const hadFocus = active !== null && acknowledgement.contains(active);
      const result = showAcknowledgement(d, before);
      if (result) focusOn(result);
      else if (hadFocus) focusOn(acknowledgement.querySelector<HTMLElement>("button, h2"));
    }
    const versions = d.versions.filter((version) => version.id !== d.currentVersion?.id);
    replaceChildren(current, d.currentVersion ? versionBlock(d.versions.find((v) => v.id === d.currentVersion?.id) ?? null, d) : h("p", { class: "muted" }, staff ? "No file yet: upload the first version." : "No file yet."));
    replaceChildren(
      history,
      versions.length === 0
        ? h("p", { class: "muted" }, "None.")
        : h("ol", { class: "library-versions", "aria-label": "Earlier versions, newest first" }, versions.map((version) => h("li", {}, versionBlock(version, d)))),
    );
    if (staff) showAcknowledgements(d);
    if (staff && mayManage(ctx, customers, d.customerId)) showManage(d, before);
    if (before && before.state !== d.state) announce(`The document is ${stateLabel(d.state).toLowerCase()} now.`);
  }

  function versionBlock(version: DocumentVersion | null, d: LibraryDocumentDetail): HTMLElement | null {
    if (!version) return null;
    const acknowledged = staff ? d.acknowledgements.filter((entry) => entry.versionNumber === version.number).length : 0;
    return h(
      "article",
      { class: `library-version${version.deletedAt ? " deleted" : ""}`, "data-version": version.number, "aria-label": versionName(version) },
      h("h3", {}, versionName(version)),
      h(
        "p",
        { class: "muted" },
        `${version.name} · ${fileSize(version.size)} · uploaded by ${version.uploadedBy.name} `,
        time(version.createdAt),
        version.restoredFromNumber ? ` · restores version ${version.restoredFromNumber}` : "",
        staff && d.requiresAcknowledgement ? ` · ${acknowledged} acknowledgement${acknowledged === 1 ? "" : "s"}` : "",
      ),
      version.note ? h("p", { class: "library-text" }, version.note) : null,
      version.deletedAt
        ? h("p", { class: "field-error" }, `Deleted by an administrator on ${absoluteTime(version.deletedAt)}.`)
        : version.downloadUrl
          ? h(
              "p",
              {},
              downloadLink({ ...version, downloadUrl: version.downloadUrl }),
            )
          : null,
    );
  }

  /** A contact's part: the button to acknowledge the current version, or that they did;
   * what should have focus now (what says it is done, after acknowledging), if anything. */
  function showAcknowledgement(d: LibraryDocumentDetail, before: LibraryDocumentDetail | null): HTMLElement | null {
    const version = d.currentVersion;
    if (staff || !d.requiresAcknowledgement || !version || d.state !== "VALID") {
      replaceChildren(acknowledgement);
      return null;
    }
    if (!d.needsMyAcknowledgement) {
      const done = before?.needsMyAcknowledgement && before.currentVersion?.id === version.id;
      replaceChildren(
        acknowledgement,
        h(
          "section",
          { class: "panel acknowledged", "aria-labelledby": "library-ack-heading", "data-testid": "acknowledgement" },
          h("h2", { id: "library-ack-heading" }, "Acknowledgement"),
          notice("success", `You acknowledged version ${version.number}.`),
        ),
      );
      return done ? acknowledgement.querySelector<HTMLElement>(".notice") : null;
    }
    const feedback = h("div");
    const again = before && before.currentVersion && before.currentVersion.id !== version.id && !before.needsMyAcknowledgement;
    if (again) announce(`Version ${version.number} asks for your acknowledgement.`);
    replaceChildren(
      acknowledgement,
      h(
        "section",
        { class: "panel to-acknowledge", "aria-labelledby": "library-ack-heading", "data-testid": "acknowledgement" },
        h("h2", { id: "library-ack-heading" }, "Your acknowledgement is asked for"),
        h("p", {}, `Read version ${version.number}${version.label ? ` (${version.label})` : ""}, then confirm that you have read it.`),
        h(
          "button",
          {
            type: "button",
            "data-action": "acknowledge",
            onclick: async () => {
              replaceChildren(feedback);
              try {
                await apply(ACKNOWLEDGE, { id: d.id });
              } catch (error) {
                replaceChildren(feedback, notice("error", describe(error)));
                focusOn(feedback.firstElementChild as HTMLElement | null);
              }
            },
          },
          `Acknowledge version ${version.number}`,
        ),
        feedback,
      ),
    );
    return null;
  }

  function showAcknowledgements(d: LibraryDocumentDetail): void {
    if (d.acknowledgements.length === 0) {
      replaceChildren(
        acknowledgements,
        h("p", { class: "muted", "data-testid": "no-acknowledgements" }, d.requiresAcknowledgement ? "Nobody has acknowledged it yet." : "No acknowledgement is asked for."),
      );
      return;
    }
    replaceChildren(
      acknowledgements,
      h(
        "table",
        { class: "deliveries library-acknowledgements" },
        h("caption", { class: "visually-hidden" }, "Who acknowledged which version and when, newest first"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Who"), h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "When"))),
        h(
          "tbody",
          {},
          d.acknowledgements.map((entry) =>
            h(
              "tr",
              { "data-user": entry.user.name, "data-version": entry.versionNumber },
              h("td", {}, entry.user.name),
              h("td", {}, String(entry.versionNumber)),
              h("td", {}, absoluteTime(entry.at)),
            ),
          ),
        ),
      ),
    );
  }

  /** What staff who may change the library do here; rebuilt only when what they act on
   * changed, keeping what is being typed and where focus is. */
  let manageKey = "";
  function showManage(d: LibraryDocumentDetail, before: LibraryDocumentDetail | null): void {
    const key = [d.state, d.validFrom, d.validUntil, d.requiresAcknowledgement, d.supersededBy?.id ?? "", d.currentVersion?.id ?? ""].join("|");
    if (key === manageKey) return;
    manageKey = key;
    const typed = [...manage.querySelectorAll<HTMLInputElement>("input[type=text]")].map((input) => [input.name, input.value] as const);
    keepFocus(manage, () =>
      replaceChildren(manage, uploadPanel(d), validityPanel(d), acknowledgementPanel(d), d.supersededBy ? null : supersedePanel(d)),
    );
    if (before) {
      for (const [name, value] of typed) {
        const input = manage.querySelector<HTMLInputElement>(`input[name="${CSS.escape(name)}"]`);
        if (input && !input.value) input.value = value;
      }
    }
  }

  function panel(id: string, title: string, ...content: (Node | null)[]): HTMLElement {
    return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...content);
  }

  /** What the last upload said, shown again when the panel is rebuilt for its version. */
  let uploaded = "";

  function uploadPanel(d: LibraryDocumentDetail): HTMLElement {
    const file = h("input", { type: "file", name: "file", "data-action": "version-file", required: true });
    const label = h("input", { type: "text", name: "label", autocomplete: "off", "data-action": "version-label" });
    const note = h("input", { type: "text", name: "note", autocomplete: "off", "data-action": "version-note" });
    const status = h("p", { class: "upload-status", role: "status" }, uploaded);
    uploaded = "";
    let busy = false;
    return panel(
      "library-upload-heading",
      "Upload a new version",
      h(
        "form",
        {
          "aria-label": "Upload a new version",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            const chosenFile = file.files?.[0];
            if (busy || !chosenFile) return;
            busy = true;
            replaceChildren(status, `Uploading ${chosenFile.name}…`);
            try {
              const version = await uploadVersion(ctx, d.id, chosenFile, { label: stripped(label.value), note: stripped(note.value) });
              file.value = "";
              label.value = "";
              note.value = "";
              uploaded = `${chosenFile.name} is version ${version.number}.`;
              replaceChildren(status, uploaded);
              await load();
            } catch (error) {
              replaceChildren(status, h("span", { class: "field-error" }, `${chosenFile.name} was not added: ${describe(error)}`));
            } finally {
              busy = false;
            }
          },
        },
        field("File", file),
        field("Version label", label, "Optional, e.g. 2026 or rev. B."),
        field("Note", note, "Optional: what changed."),
        h("div", { class: "row" }, h("button", { type: "submit", "data-action": "upload" }, "Upload version")),
        status,
      ),
    );
  }

  function validityPanel(d: LibraryDocumentDetail): HTMLElement {
    const from = h("input", { type: "date", name: "validFrom", "data-action": "valid-from" });
    const until = h("input", { type: "date", name: "validUntil", "data-action": "valid-until" });
    from.value = dateValue(d.validFrom);
    until.value = dateValue(d.validUntil);
    const feedback = h("div");
    const save = async (validFrom: string | null, validUntil: string | null, done: string): Promise<void> => {
      replaceChildren(feedback);
      try {
        await apply(SET_VALIDITY, { id: d.id, validFrom, validUntil });
        const result = notice("success", done);
        replaceChildren(manage.querySelector("[data-feedback=validity]") ?? feedback, result);
        focusOn(result);
      } catch (error) {
        replaceChildren(feedback, notice("error", describe(error)));
        focusOn(feedback.firstElementChild as HTMLElement | null);
      }
    };
    feedback.dataset.feedback = "validity";
    return panel(
      "library-validity-heading",
      "Validity",
      h("p", { class: "muted" }, validityText(d), "."),
      h(
        "form",
        {
          "aria-label": "Validity",
          onsubmit: (event: Event) => {
            event.preventDefault();
            if (!from.value) {
              replaceChildren(feedback, notice("error", "Choose the day it is valid from."));
              focusOn(from);
              return;
            }
            void save(startOfDay(from.value), startOfDay(until.value), "Validity saved.");
          },
        },
        field("Valid from", from),
        field("Ends on", until, "Optional: expired from this day on."),
        h(
          "div",
          { class: "row" },
          h("button", { type: "submit", "data-action": "publish" }, d.validFrom ? "Save validity" : "Publish"),
          d.validFrom
            ? h("button", { type: "button", class: "secondary", "data-action": "unpublish", onclick: () => void save(null, null, "Back to draft.") }, "Back to draft")
            : null,
        ),
        feedback,
      ),
    );
  }

  function acknowledgementPanel(d: LibraryDocumentDetail): HTMLElement {
    const box = h("input", { type: "checkbox", id: "library-requires-ack", "data-action": "requires-ack", checked: d.requiresAcknowledgement });
    const feedback = h("div");
    box.addEventListener("change", async () => {
      replaceChildren(feedback);
      try {
        await apply(REQUIRE_ACKNOWLEDGEMENT, { id: d.id, required: box.checked });
        announce(box.checked ? "Contacts are asked to acknowledge it." : "No acknowledgement is asked for.");
      } catch (error) {
        box.checked = !box.checked;
        replaceChildren(feedback, notice("error", describe(error)));
      }
    });
    return panel(
      "library-require-heading",
      "Acknowledgement",
      h("div", { class: "check" }, box, h("label", { for: box.id }, "Contacts must acknowledge the current version")),
      h("p", { class: "muted" }, "A new version asks them again."),
      feedback,
    );
  }

  function supersedePanel(d: LibraryDocumentDetail): HTMLElement {
    const select = h("select", { name: "byId", "data-action": "supersede-by" }, h("option", { value: "" }, "Choose a document…"));
    const feedback = h("div");
    void (async () => {
      const filter = d.customerId ? { customerId: d.customerId } : null;
      try {
        const found: ChoicesData["documents"]["edges"] = [];
        let after: string | null = null;
        for (let page = 0; page < 10; page += 1) {
          const data: ChoicesData = await ctx.session.request<ChoicesData>(CHOICES, { filter, after });
          found.push(...data.documents.edges);
          if (!data.documents.pageInfo?.hasNextPage || !data.documents.pageInfo.endCursor) break;
          after = data.documents.pageInfo.endCursor;
        }
        const others = found
          .map((edge) => edge.node)
          .filter((other) => other.id !== d.id && other.customerId === d.customerId && other.state !== "SUPERSEDED")
          .sort((a, b) => a.title.localeCompare(b.title));
        select.append(...others.map((other) => h("option", { value: other.id }, `${other.title} (${stateLabel(other.state).toLowerCase()})`)));
      } catch (error) {
        replaceChildren(feedback, notice("error", describe(error)));
      }
    })();
    return panel(
      "library-supersede-heading",
      "Supersede",
      h(
        "form",
        {
          "aria-label": "Supersede",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            replaceChildren(feedback);
            const by = select.selectedOptions[0];
            if (!select.value || !by) {
              replaceChildren(feedback, notice("error", "Choose the document that replaces it."));
              focusOn(select);
              return;
            }
            if (!window.confirm(`Replace “${d.title}” by “${by.textContent ?? ""}”? Its contacts are told, and it cannot be undone.`)) return;
            try {
              await apply(SUPERSEDE, { id: d.id, byId: select.value });
              announce("The document is superseded.");
              focusOn(links.querySelector<HTMLElement>(".notice") ?? main.querySelector("h1"));
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
              focusOn(feedback.firstElementChild as HTMLElement | null);
            }
          },
        },
        field("Replaced by", select, "Another document of the same library."),
        h("div", { class: "row" }, h("button", { type: "submit", class: "secondary", "data-action": "supersede" }, "Supersede")),
        feedback,
      ),
    );
  }

  /** A mutation whose answer is the document: shown at once (the live event confirms). */
  async function apply(query: string, variables: Record<string, unknown>): Promise<void> {
    const data = await ctx.session.request<Payload>(query, variables);
    const changed = Object.values(data)[0];
    if (changed && !destroyed) {
      const before = shown;
      shown = changed;
      update(changed, before);
    }
  }

  return {
    destroy() {
      destroyed = true;
      clearTimeout(refreshTimer);
      subscription?.stop();
    },
  };
}
