// Documents (#/documents): a customer's quotes, orders, invoices and credit notes with their
// status, due date, amounts (where the reader may see them) and PDF, kept up to date live.
// A lead contact accepts or declines a quote waiting for a decision, after confirming it.

import ACCEPT_QUOTE from "../../operations/DocumentsAcceptQuote.graphql";
import DECLINE_QUOTE from "../../operations/DocumentsDeclineQuote.graphql";
import DOCUMENTS from "../../operations/Documents.graphql";
import DOCUMENTS_EVENTS from "../../operations/DocumentsEvents.graphql";
import { describe, failure, isStaff, setTitle, type AppContext, type View } from "./app";
import { announce, field, focusOn, h, notice, replaceChildren } from "./dom";
import type { LiveSubscription } from "./live";
import type { Connection } from "./types";

type Kind = "QUOTE" | "ORDER" | "INVOICE" | "CREDIT_NOTE";

interface BusinessDocument {
  id: string;
  kind: Kind;
  number: string;
  title: string;
  status: string;
  issueDate: string;
  dueDate: string | null;
  netAmount: string | null;
  grossAmount: string | null;
  currency: string;
  pdfName: string | null;
  pdfUrl: string | null;
  canDecide: boolean;
  decidedAt: string | null;
  decidedBy: { id: string; name: string } | null;
  customer: { id: string; name: string };
  project: { id: string; name: string } | null;
}

interface DocumentsData {
  businessDocuments: Connection<BusinessDocument>;
}

interface DocumentEventData {
  businessDocumentEvents: {
    __typename: string;
    cursor: string;
    actor?: { id: string; name: string } | null;
    document?: { id: string; kind: Kind; number: string; title: string } | null;
  };
}

const KIND_LABELS: Record<Kind, string> = {
  QUOTE: "Quote",
  ORDER: "Order",
  INVOICE: "Invoice",
  CREDIT_NOTE: "Credit note",
};

const STATUS_LABELS: Record<string, string> = {
  SENT: "Awaiting decision",
  ACCEPTED: "Accepted",
  DECLINED: "Declined",
  EXPIRED: "Expired",
  CONFIRMED: "Confirmed",
  DELIVERED: "Delivered",
  OPEN: "Open",
  PAID: "Paid",
  OVERDUE: "Overdue",
  ISSUED: "Issued",
  SETTLED: "Settled",
  CANCELLED: "Cancelled",
};

/** An exact decimal string ("1234.50") with its currency, without going through floats. */
export function money(amount: string, currency: string): string {
  const [whole = "0", fraction = "00"] = amount.split(".");
  const negative = whole.startsWith("-");
  const digits = negative ? whole.slice(1) : whole;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}.${fraction.padEnd(2, "0")} ${currency}`;
}

function day(iso: string): string {
  const [year, month, date] = iso.split("-").map(Number);
  return new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, date ?? 1)).toLocaleDateString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

function statusBadge(status: string): HTMLElement {
  return h("span", { class: `status status-${status.toLowerCase()}`, "data-status": status }, STATUS_LABELS[status] ?? status);
}

export function documentsView(ctx: AppContext, main: HTMLElement): View {
  setTitle("Documents");
  let destroyed = false;
  let subscription: LiveSubscription<DocumentEventData> | null = null;
  let first = true;
  const staff = isStaff(ctx.user);
  const count = h("p", { class: "muted", role: "status", "data-testid": "document-count" });
  const problem = h("div");
  const list = h("ul", { class: "document-list", "aria-label": "Documents", tabindex: -1 });
  const kindFilter = h(
    "select",
    { name: "kind" },
    h("option", { value: "" }, "All kinds"),
    (Object.keys(KIND_LABELS) as Kind[]).map((kind) => h("option", { value: kind }, KIND_LABELS[kind])),
  );
  kindFilter.addEventListener("change", () => void load());
  replaceChildren(
    main,
    h("header", { class: "page-header" }, h("h1", { tabindex: -1 }, "Documents")),
    h(
      "form",
      { class: "filters row", "aria-label": "Filter documents", onsubmit: (event: Event) => event.preventDefault() },
      field("Kind", kindFilter),
    ),
    count,
    problem,
    list,
  );
  replaceChildren(count, "Loading…");
  focusOn(main.querySelector("h1"));

  function decision(document: BusinessDocument, feedback: HTMLElement): HTMLElement | null {
    if (!document.canDecide) return null;
    const box = h("div", { class: "row quote-decision" });
    const note = h("input", { type: "text", name: "note", maxlength: 2000 });
    const ask = (accept: boolean): void => {
      const verb = accept ? "Accept" : "Decline";
      const confirm = h(
        "button",
        {
          type: "button",
          "data-action": accept ? "confirm-accept" : "confirm-decline",
          onclick: async () => {
            try {
              await ctx.session.request(accept ? ACCEPT_QUOTE : DECLINE_QUOTE, { id: document.id, note: note.value });
              announce(`Quote ${document.number} ${accept ? "accepted" : "declined"}.`);
              await load();
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
            }
          },
        },
        `${verb} quote ${document.number}`,
      );
      replaceChildren(
        box,
        h(
          "div",
          { role: "group", "aria-label": `${verb} quote ${document.number}?` },
          h("p", {}, `${verb} quote ${document.number}? This is recorded and cannot be undone.`),
          field("Note (optional)", note),
          confirm,
          " ",
          h("button", { type: "button", class: "secondary", onclick: () => reset() }, "Cancel"),
        ),
      );
      focusOn(confirm);
    };
    const reset = (): void => {
      replaceChildren(
        box,
        h("button", { type: "button", "data-action": "accept", onclick: () => ask(true) }, `Accept ${document.number}`),
        " ",
        h("button", { type: "button", class: "secondary", "data-action": "decline", onclick: () => ask(false) }, `Decline ${document.number}`),
      );
    };
    reset();
    return box;
  }

  function item(document: BusinessDocument): HTMLElement {
    const feedback = h("div");
    const amounts =
      document.netAmount !== null && document.grossAmount !== null
        ? h(
            "p",
            { class: "document-amounts", "data-testid": "amounts" },
            `Net ${money(document.netAmount, document.currency)} · gross ${money(document.grossAmount, document.currency)}`,
          )
        : null;
    return h(
      "li",
      { class: "document-item", "data-document-id": document.id, "data-number": document.number, "data-status": document.status },
      h(
        "div",
        { class: "request-line" },
        h("strong", {}, `${KIND_LABELS[document.kind]} ${document.number}`),
        " ",
        document.title,
        " ",
        statusBadge(document.status),
      ),
      h(
        "p",
        { class: "muted" },
        staff ? `${document.customer.name} · ` : "",
        document.project ? `${document.project.name} · ` : "",
        `issued ${day(document.issueDate)}`,
        document.dueDate ? ` · due ${day(document.dueDate)}` : "",
        document.decidedBy ? ` · decided by ${document.decidedBy.name}` : "",
      ),
      amounts,
      document.pdfUrl
        ? h("p", {}, h("a", { href: document.pdfUrl, download: document.pdfName ?? "" }, `Download ${document.pdfName ?? "PDF"}`))
        : null,
      decision(document, feedback),
      feedback,
    );
  }

  async function load(): Promise<void> {
    let data: DocumentsData;
    const filter = kindFilter.value ? { kind: [kindFilter.value] } : null;
    try {
      data = await ctx.session.request<DocumentsData>(DOCUMENTS, { filter, first: 100 });
    } catch (error) {
      if (destroyed) return;
      replaceChildren(problem, failure(error, () => void load()));
      replaceChildren(count);
      return;
    }
    if (destroyed) return;
    replaceChildren(problem);
    const documents = data.businessDocuments.edges.map((edge) => edge.node);
    const active = document.activeElement as HTMLElement | null;
    const focused = active && list.contains(active) ? active.closest<HTMLElement>("[data-document-id]")?.dataset.documentId : null;
    replaceChildren(list, documents.map(item));
    const total = data.businessDocuments.totalCount ?? documents.length;
    replaceChildren(count, total === 0 ? "No documents yet." : total === 1 ? "1 document" : `${total} documents`);
    if (focused) focusOn(list.querySelector<HTMLElement>(`[data-document-id="${CSS.escape(focused)}"] button`) ?? list);
    if (first) {
      first = false;
      startLive();
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  function refresh(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!destroyed) void load();
    }, 250);
  }

  function startLive(): void {
    subscription = ctx.live.subscribe<DocumentEventData>(DOCUMENTS_EVENTS, { after: null }, {
      next: ({ businessDocumentEvents: event }) => {
        refresh();
        const document = event.document;
        if (event.__typename === "BusinessDocumentPublished" && document && event.actor?.id !== ctx.user.id) {
          announce(`New ${KIND_LABELS[document.kind].toLowerCase()} ${document.number}: ${document.title}`);
        }
      },
      cursor: ({ businessDocumentEvents: event }) => event.cursor,
      error: (error) => replaceChildren(problem, notice("error", "Live updates stopped: ", describe(error))),
    });
  }

  void load();
  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      subscription?.stop();
    },
  };
}
