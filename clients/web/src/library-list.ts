// The library (#/library): a contact's shared library and their customer's, staff's one
// library at a time (the shared one or a customer's), each by folder, filtered by state
// (a contact sees the valid documents unless they choose otherwise; drafts are staff's
// alone), type, tag and, for a contact, what they still have to acknowledge. Staff with the
// right create folders and documents here. Kept up to date live.

import LIBRARY from "../../operations/Library.graphql";
import CREATE_DOCUMENT from "../../operations/LibraryCreateDocument.graphql";
import CREATE_FOLDER from "../../operations/LibraryCreateFolder.graphql";
import SCOPES from "../../operations/LibraryScopes.graphql";
import { describe, failure, isStaff, link, setTitle, type AppContext, type View } from "./app";
import { announce, field, focusOn, h, notice, replaceChildren } from "./dom";
import {
  DOCUMENT_STATES,
  TYPE_LABELS,
  downloadLink,
  followLibrary,
  folderPaths,
  mayManage,
  renewDownloads,
  stateBadge,
  stateLabel,
  typeLabel,
  validityText,
  type CustomerScope,
  type DocumentType,
  type LibraryDocumentSummary,
  type LibraryEventData,
  type LibraryFolder,
} from "./library";
import type { LiveSubscription } from "./live";
import { fileSize } from "./requests";
import { limitText, stripped, TITLE_MAX_LENGTH } from "./text";
import type { Connection } from "./types";
import { confirmDiscard, keepUnsaved } from "./unsaved";

const PAGE_SIZE = 100;
const MAX_PAGES = 10;
const SHARED = "shared";

interface ScopesData {
  me: { id: string; customer: { id: string; name: string } | null };
  customers: Connection<CustomerScope>;
}

interface LibraryData {
  shared?: { folders: LibraryFolder[] };
  own?: { folders: LibraryFolder[] };
  documents: Connection<LibraryDocumentSummary>;
}

/** The filters chosen, kept while the app is open (coming back from a document). */
const chosen = { scope: SHARED, state: "", type: "", tag: "", mine: false, staffState: "" };

interface Section {
  key: string;
  name: string;
  customerId: string | null;
  folders: LibraryFolder[];
}

export function libraryView(ctx: AppContext, main: HTMLElement): View {
  const staff = isStaff(ctx.user);
  setTitle("Library");
  let destroyed = false;
  let subscription: LiveSubscription<LibraryEventData> | null = null;
  let scopes: ScopesData | null = null;
  let loading = 0;

  const count = h("p", { class: "muted", role: "status", "data-testid": "library-count" });
  const problem = h("div");
  const sections = h("div", { class: "library-sections" });
  const creation = h("div");
  const scopeFilter = h("select", { name: "library" });
  const stateFilter = h(
    "select",
    { name: "state" },
    staff ? null : h("option", { value: "" }, "Valid"),
    h("option", { value: "ALL" }, "All states"),
    DOCUMENT_STATES.filter((state) => staff || (state !== "DRAFT" && state !== "VALID")).map((state) =>
      h("option", { value: state }, stateLabel(state)),
    ),
  );
  const typeFilter = h(
    "select",
    { name: "type" },
    h("option", { value: "" }, "All types"),
    (Object.keys(TYPE_LABELS) as DocumentType[]).map((type) => h("option", { value: type }, TYPE_LABELS[type])),
  );
  const tagFilter = h("input", { type: "search", name: "tag", autocomplete: "off", list: "library-tags" });
  const tagChoices = h("datalist", { id: "library-tags" });
  const mine = h("input", { type: "checkbox", id: "library-needs-me", name: "needsMyAcknowledgement" });
  stateFilter.value = staff ? chosen.staffState || "ALL" : chosen.state;
  typeFilter.value = chosen.type;
  tagFilter.value = chosen.tag;
  mine.checked = chosen.mine;

  const filters = h(
    "form",
    {
      class: "filters row",
      "aria-label": "Filter documents",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void load();
      },
    },
    staff ? field("Library", scopeFilter) : null,
    field("State", stateFilter),
    field("Type", typeFilter),
    field("Tag", tagFilter),
    tagChoices,
    staff ? null : h("div", { class: "check" }, mine, h("label", { for: mine.id }, "Only those I must acknowledge")),
  );
  for (const control of [scopeFilter, stateFilter, typeFilter, tagFilter, mine]) {
    control.addEventListener("change", () => {
      remember();
      void load();
    });
  }

  replaceChildren(
    main,
    h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, "Library")),
    filters,
    creation,
    count,
    problem,
    sections,
  );
  replaceChildren(count, "Loading…");
  focusOn(main.querySelector("h1"));
  renewDownloads(sections, load);

  function remember(): void {
    if (staff) {
      chosen.scope = scopeFilter.value;
      chosen.staffState = stateFilter.value;
    } else {
      chosen.state = stateFilter.value;
      chosen.mine = mine.checked;
    }
    chosen.type = typeFilter.value;
    chosen.tag = tagFilter.value;
  }

  function customers(): CustomerScope[] {
    return scopes?.customers.edges.map((edge) => edge.node) ?? [];
  }

  /** The customer whose library staff look at (null: the shared library). */
  function staffCustomer(): string | null {
    return scopeFilter.value === SHARED ? null : scopeFilter.value || null;
  }

  function filter(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const state = stateFilter.value;
    if (state === "") result.state = ["VALID"];
    else if (state !== "ALL") result.state = [state];
    if (typeFilter.value) result.type = [typeFilter.value];
    const tag = stripped(tagFilter.value);
    if (tag) result.tag = tag;
    if (!staff && mine.checked) result.needsMyAcknowledgement = true;
    const customer = staff ? staffCustomer() : null;
    if (customer) result.customerId = customer;
    return result;
  }

  /** Whether any condition narrows the list (then folders without a match are left out). */
  function narrowed(): boolean {
    return stateFilter.value !== "ALL" || !!typeFilter.value || !!stripped(tagFilter.value) || mine.checked;
  }

  async function loadScopes(): Promise<void> {
    scopes = await ctx.session.request<ScopesData>(SCOPES);
    if (!staff) return;
    replaceChildren(
      scopeFilter,
      h("option", { value: SHARED }, "Shared library"),
      customers().map((customer) => h("option", { value: customer.id }, `Library of ${customer.name}`)),
    );
    scopeFilter.value = customers().some((customer) => customer.id === chosen.scope) ? chosen.scope : SHARED;
  }

  async function load(): Promise<void> {
    const ticket = ++loading;
    let data: LibraryData;
    const documents: LibraryDocumentSummary[] = [];
    try {
      if (!scopes) await loadScopes();
      const own = staff ? staffCustomer() : (scopes?.me.customer?.id ?? null);
      let after: string | null = null;
      for (let page = 0; ; page += 1) {
        data = await ctx.session.request<LibraryData>(LIBRARY, {
          customerId: own,
          withShared: !staff || own === null,
          withCustomer: own !== null,
          filter: filter(),
          first: PAGE_SIZE,
          after,
        });
        documents.push(...data.documents.edges.map((edge) => edge.node));
        const next = data.documents.pageInfo;
        if (!next?.hasNextPage || !next.endCursor || page + 1 >= MAX_PAGES) break;
        after = next.endCursor;
      }
    } catch (error) {
      if (destroyed || ticket !== loading) return;
      replaceChildren(problem, failure(error, () => void load()));
      replaceChildren(count);
      return;
    }
    if (destroyed || ticket !== loading) return;
    replaceChildren(problem);
    show(data, documents);
    if (subscription === null) startLive();
  }

  function show(data: LibraryData, found: LibraryDocumentSummary[]): void {
    const own = scopes?.me.customer ?? null;
    const customer = staff ? staffCustomer() : (own?.id ?? null);
    const list: Section[] = [];
    if (!staff || customer === null) {
      list.push({ key: SHARED, name: "Shared library", customerId: null, folders: data.shared?.folders ?? [] });
    }
    if (customer !== null) {
      const name = staff ? (customers().find((c) => c.id === customer)?.name ?? "The customer") : (own?.name ?? "Your company");
      list.push({ key: customer, name: `Library of ${name}`, customerId: customer, folders: data.own?.folders ?? [] });
    }
    const documents = found.filter((document) => list.some((section) => section.customerId === document.customerId));
    const active = document.activeElement as HTMLElement | null;
    const focused = active && sections.contains(active) ? active.closest<HTMLElement>("[data-document-id]")?.dataset.documentId : null;
    replaceChildren(sections, list.map((section) => sectionOf(section, documents.filter((d) => d.customerId === section.customerId))));
    if (focused) focusOn(sections.querySelector<HTMLElement>(`[data-document-id="${CSS.escape(focused)}"] a`));
    const total = documents.length;
    replaceChildren(
      count,
      total === 0
        ? mine.checked
          ? "Nothing is waiting for your acknowledgement."
          : "No documents match."
        : total === 1
          ? "1 document"
          : `${total} documents`,
    );
    const tags = [...new Set(documents.flatMap((document) => document.tags))].sort();
    replaceChildren(tagChoices, tags.map((tag) => h("option", { value: tag })));
    showCreation(list);
  }

  function sectionOf(section: Section, documents: LibraryDocumentSummary[]): HTMLElement {
    const headingId = `library-${section.key}-heading`;
    const paths = folderPaths(section.folders);
    const folders = [...section.folders].sort((a, b) => (paths.get(a.id) ?? "").localeCompare(paths.get(b.id) ?? ""));
    const byTitle = (a: LibraryDocumentSummary, b: LibraryDocumentSummary): number => a.title.localeCompare(b.title);
    const loose = documents.filter((document) => !document.folderId || !paths.has(document.folderId)).sort(byTitle);
    const groups = folders
      .map((folder) => ({ folder, documents: documents.filter((document) => document.folderId === folder.id).sort(byTitle) }))
      .filter((group) => group.documents.length > 0 || !narrowed());
    return h(
      "section",
      { class: "library-section", "aria-labelledby": headingId, "data-library": section.key },
      h("h2", { id: headingId }, section.name),
      documents.length === 0 && groups.length === 0 ? h("p", { class: "muted empty" }, "No documents here.") : null,
      loose.length > 0 ? h("ul", { class: "library-list", "aria-label": `${section.name}, outside folders` }, loose.map(item)) : null,
      groups.map(({ folder, documents: inside }) =>
        h(
          "section",
          { class: "library-folder", "aria-label": `Folder ${paths.get(folder.id) ?? folder.name}`, "data-folder-id": folder.id },
          h(
            "h3",
            {},
            h("span", { class: "folder-mark", "aria-hidden": "true" }, "▸ "),
            paths.get(folder.id) ?? folder.name,
            staff && section.customerId !== null && !folder.openToMembers ? h("span", { class: "tag" }, "Lead contacts only") : null,
          ),
          inside.length === 0
            ? h("p", { class: "muted empty" }, "No documents in this folder.")
            : h("ul", { class: "library-list" }, inside.map(item)),
        ),
      ),
    );
  }

  function item(document: LibraryDocumentSummary): HTMLElement {
    const version = document.currentVersion;
    return h(
      "li",
      { class: "library-item", "data-document-id": document.id, "data-state": document.state, "data-title": document.title },
      h(
        "div",
        { class: "request-line" },
        h("a", { href: link("library", document.id), class: "request-link" }, document.title),
        stateBadge(document.state),
        document.needsMyAcknowledgement ? h("span", { class: "tag to-acknowledge" }, "To acknowledge") : null,
      ),
      h(
        "p",
        { class: "request-meta muted" },
        typeLabel(document.type),
        " · ",
        validityText(document),
        version ? ` · version ${version.number}${version.label ? ` (${version.label})` : ""}` : " · no file yet",
      ),
      document.tags.length > 0
        ? h(
            "ul",
            { class: "tags", "aria-label": "Tags" },
            document.tags.map((tag) =>
              h(
                "li",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "tag tag-button",
                    "aria-label": `Only documents tagged ${tag}`,
                    onclick: () => {
                      tagFilter.value = tag;
                      remember();
                      void load();
                      focusOn(tagFilter);
                    },
                  },
                  tag,
                ),
              ),
            ),
          )
        : null,
      version?.downloadUrl
        ? h(
            "p",
            { class: "download" },
            downloadLink({ ...version, downloadUrl: version.downloadUrl }, `Download ${version.name}: ${document.title}, version ${version.number}`),
            h("small", { class: "muted" }, ` ${fileSize(version.size)}`),
          )
        : null,
    );
  }

  /** Staff who may change the library shown: a new folder, a new document. */
  function showCreation(list: Section[]): void {
    if (!staff) return;
    const section = list[list.length - 1];
    if (!section || !mayManage(ctx, customers(), section.customerId)) {
      replaceChildren(creation);
      return;
    }
    shownSection = section; // the forms opened from now on offer its folders as they are now
    if (creation.dataset.library === section.key && creation.childElementCount > 0) return;
    creation.dataset.library = section.key;
    const openDocument = h("button", { type: "button", "data-action": "new-document", "aria-expanded": "false" }, "New document");
    const openFolder = h("button", { type: "button", class: "secondary", "data-action": "new-folder", "aria-expanded": "false" }, "New folder");
    const slot = h("div");
    const toggle = (button: HTMLButtonElement, build: () => HTMLElement): void => {
      const open = button.getAttribute("aria-expanded") === "true";
      if (open && !confirmDiscard(slot.querySelector("[data-dirty=true]") !== null)) return;
      for (const other of [openDocument, openFolder]) other.setAttribute("aria-expanded", "false");
      releaseForm();
      if (open) {
        replaceChildren(slot);
        button.focus();
        return;
      }
      button.setAttribute("aria-expanded", "true");
      const form = build();
      replaceChildren(slot, form);
      focusOn(form.querySelector<HTMLElement>("input, select"));
    };
    openDocument.addEventListener("click", () => toggle(openDocument, () => documentForm(shownSection ?? section, slot, openDocument)));
    openFolder.addEventListener("click", () => toggle(openFolder, () => folderForm(shownSection ?? section, slot, openFolder)));
    replaceChildren(creation, h("div", { class: "row library-actions" }, openDocument, openFolder), slot);
  }

  let releaseForm: () => void = () => {};
  let shownSection: Section | null = null;

  function folderForm(section: Section, slot: HTMLElement, opener: HTMLButtonElement): HTMLElement {
    const name = h("input", { type: "text", name: "name", autocomplete: "off", required: true });
    const parent = h(
      "select",
      { name: "parent" },
      h("option", { value: "" }, "At the top"),
      [...folderPaths(section.folders)].map(([id, path]) => h("option", { value: id }, path)),
    );
    const open = h("input", { type: "checkbox", id: "library-folder-open", name: "openToMembers", checked: true });
    const feedback = h("div");
    return h(
      "form",
      {
        class: "panel",
        "aria-label": "New folder",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(feedback);
          try {
            await ctx.session.request(CREATE_FOLDER, {
              name: stripped(name.value),
              customerId: section.customerId,
              parentFolderId: parent.value || null,
              openToMembers: section.customerId === null ? true : open.checked,
            });
            announce(`Folder ${stripped(name.value)} created.`);
            replaceChildren(slot);
            opener.setAttribute("aria-expanded", "false");
            opener.focus();
            await load();
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          }
        },
      },
      h("h2", {}, `New folder: ${section.name}`),
      field("Name", name),
      section.folders.length > 0 ? field("Inside", parent) : null,
      section.customerId !== null ? h("div", { class: "check" }, open, h("label", { for: open.id }, "Every contact of the customer sees it (else its lead contacts alone)")) : null,
      h("div", { class: "row" }, h("button", { type: "submit" }, "Create folder")),
      feedback,
    );
  }

  function documentForm(section: Section, slot: HTMLElement, opener: HTMLButtonElement): HTMLElement {
    const title = h("input", { type: "text", name: "title", autocomplete: "off", required: true });
    const type = h(
      "select",
      { name: "type" },
      (Object.keys(TYPE_LABELS) as DocumentType[]).map((key) => h("option", { value: key }, TYPE_LABELS[key])),
    );
    const description = h("textarea", { name: "description", rows: 3 });
    const tags = h("input", { type: "text", name: "tags", autocomplete: "off" });
    const folder = h(
      "select",
      { name: "folder" },
      h("option", { value: "" }, "Outside folders"),
      [...folderPaths(section.folders)].map(([id, path]) => h("option", { value: id }, path)),
    );
    const acknowledge = h("input", { type: "checkbox", id: "library-new-acknowledge", name: "requiresAcknowledgement" });
    const everyone = h("input", { type: "checkbox", id: "library-new-everyone", name: "offeredToAll", checked: true });
    const chosenCustomers = h(
      "fieldset",
      { class: "choices library-offer", hidden: true },
      h("legend", {}, "Offered to"),
      customers().map((customer) =>
        h(
          "div",
          { class: "check" },
          h("input", { type: "checkbox", id: `library-offer-${customer.id}`, name: "customerIds", value: customer.id }),
          h("label", { for: `library-offer-${customer.id}` }, customer.name),
        ),
      ),
    );
    everyone.addEventListener("change", () => {
      chosenCustomers.hidden = everyone.checked;
    });
    const feedback = h("div");
    const dirty = (): boolean => stripped(title.value) !== "" || stripped(description.value) !== "";
    releaseForm = keepUnsaved(dirty);
    const form = h(
      "form",
      {
        class: "panel",
        "aria-label": "New document",
        oninput: () => {
          form.dataset.dirty = String(dirty());
        },
        onsubmit: async (event: Event) => {
          event.preventDefault();
          replaceChildren(feedback);
          const input: Record<string, unknown> = {
            title: stripped(title.value),
            type: type.value,
            description: stripped(description.value),
            customerId: section.customerId,
            folderId: folder.value || null,
            tags: tags.value.split(",").map(stripped).filter(Boolean),
            requiresAcknowledgement: acknowledge.checked,
          };
          if (section.customerId === null) {
            input.offeredToAll = everyone.checked;
            input.customerIds = [...chosenCustomers.querySelectorAll<HTMLInputElement>("input:checked")].map((box) => box.value);
          }
          try {
            const data = await ctx.session.request<{ createDocument: { id: string; title: string } }>(CREATE_DOCUMENT, { input });
            releaseForm();
            releaseForm = () => {};
            replaceChildren(slot);
            opener.setAttribute("aria-expanded", "false");
            announce(`Draft ${data.createDocument.title} created: upload its first version, then publish it.`);
            window.location.hash = link("library", data.createDocument.id);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            focusOn(feedback.firstElementChild as HTMLElement | null);
          }
        },
      },
      h("h2", {}, `New document: ${section.name}`),
      h("p", { class: "muted" }, "It is a draft, seen by staff alone, until you upload a version and publish it."),
      field("Title", title),
      limitText(title, TITLE_MAX_LENGTH),
      field("Type", type),
      field("Description", description, "Optional; plain text."),
      field("Tags", tags, "Optional; separated by commas."),
      section.folders.length > 0 ? field("Folder", folder) : null,
      h("div", { class: "check" }, acknowledge, h("label", { for: acknowledge.id }, "Contacts must acknowledge each version")),
      section.customerId === null
        ? [h("div", { class: "check" }, everyone, h("label", { for: everyone.id }, "Offered to every customer")), chosenCustomers]
        : null,
      h("div", { class: "row" }, h("button", { type: "submit" }, "Create draft")),
      feedback,
    );
    return form;
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  function refresh(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!destroyed) void load();
    }, 250);
  }

  function startLive(): void {
    subscription = followLibrary(ctx, null, {
      next: ({ libraryEvents: event }) => {
        refresh();
        if (event.kind === "VERSION_ADDED" && event.document && event.actor?.id !== ctx.user.id) {
          announce(`New version of ${event.document.title}.`);
        }
      },
      error: (error) => replaceChildren(problem, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      subscription?.stop();
      releaseForm();
    },
  };
}
