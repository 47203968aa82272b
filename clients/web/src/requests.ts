// What the request views share: the shapes of the request documents in clients/operations/,
// status names and badges, what a request's SLA says to a reader ("Answer expected by …"),
// uploading a file for a request, and the errors a form shows next to its fields.

import { isStaff, link, type AppContext } from "./app";
import { absoluteTime, focusOn, h, replaceChildren } from "./dom";
import { GraphQLRequestError } from "./session";
import type { Connection, Visibility } from "./types";

export type RequestStatus = "RECEIVED" | "IN_PROGRESS" | "NEEDS_INFO" | "APPROVED" | "REJECTED" | "RESOLVED" | "WITHDRAWN";

export const REQUEST_STATUSES: RequestStatus[] = [
  "RECEIVED",
  "IN_PROGRESS",
  "NEEDS_INFO",
  "APPROVED",
  "REJECTED",
  "RESOLVED",
  "WITHDRAWN",
];

/** Statuses that still wait for someone: what "open" means in filters. */
export const OPEN_STATUSES: RequestStatus[] = ["RECEIVED", "IN_PROGRESS", "NEEDS_INFO", "APPROVED"];

const LABELS: Record<RequestStatus, string> = {
  RECEIVED: "Received",
  IN_PROGRESS: "In progress",
  NEEDS_INFO: "Needs information",
  APPROVED: "Approved",
  REJECTED: "Rejected",
  RESOLVED: "Resolved",
  WITHDRAWN: "Withdrawn",
};

/** What moving to a status is called on a button or in a list of choices. */
const ACTIONS: Record<RequestStatus, string> = {
  RECEIVED: "Back to received",
  IN_PROGRESS: "Start work (in progress)",
  NEEDS_INFO: "Ask for information",
  APPROVED: "Approve",
  REJECTED: "Reject",
  RESOLVED: "Resolve",
  WITHDRAWN: "Withdraw",
};

export function requestStatusLabel(status: string): string {
  return LABELS[status as RequestStatus] ?? status;
}

export function requestStatusAction(status: string): string {
  return ACTIONS[status as RequestStatus] ?? requestStatusLabel(status);
}

export function requestStatusBadge(status: string, testId?: string): HTMLSpanElement {
  return h(
    "span",
    { class: `status status-${status.toLowerCase()}`, "data-status": status, "data-testid": testId },
    requestStatusLabel(status),
  );
}

export interface Person {
  id: string;
  name: string;
}

export interface SlaClock {
  targetMinutes: number | null;
  elapsedMinutes: number | null;
  remainingMinutes: number | null;
  breached: boolean;
  paused: boolean;
  breachesAt: string | null;
  metAt: string | null;
}

export interface RequestSla {
  paused: boolean;
  firstResponse: SlaClock | null;
  resolution: SlaClock | null;
}

export interface AttachmentFile {
  id: string;
  name: string;
  size: number;
  /** A link to the file's content, where the server gives one. */
  downloadUrl?: string | null;
}

/** A request as lists show it (fragment RequestSummary). */
export interface RequestSummary {
  id: string;
  number: string;
  title: string;
  status: RequestStatus;
  nextStep: string | null;
  dueAt: string | null;
  closed: boolean;
  createdAt: string;
  updatedAt: string;
  allowedTransitions: RequestStatus[];
  type: { id: string; name: string };
  customer: { id: string; name: string };
  requester: Person | null;
  assignee: Person | null;
  sla: RequestSla;
}

export interface FieldHints {
  kind: string;
  label?: string;
  help?: string;
  unit?: string;
  showIf?: { field: string; equals: unknown } | null;
  prefill?: unknown;
  options?: unknown;
}

export interface FormDefinition {
  schema: JsonSchema;
  ui: { order?: string[]; fields?: Record<string, FieldHints> };
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

export interface RequestTypeData {
  id: string;
  name: string;
  description: string;
  form: FormDefinition | string;
}

/** A request type's form as data (the server sends JSON; some servers send it as a string). */
export function formOf(type: RequestTypeData): FormDefinition {
  const raw = typeof type.form === "string" ? (JSON.parse(type.form) as FormDefinition) : type.form;
  return { schema: raw?.schema ?? {}, ui: raw?.ui ?? {} };
}

export interface RequestMessage {
  id: string;
  body: string;
  bodyHtml: string;
  visibility: Visibility;
  createdAt: string;
  author: Person | null;
  attachments: AttachmentFile[];
}

export interface ExpectedDocument {
  id: string;
  name: string;
  required: boolean;
  received: boolean;
  attachments: AttachmentFile[];
}

export interface HistoryEntry {
  fromStatus: RequestStatus | null;
  toStatus: RequestStatus;
  reason: string;
  createdAt: string;
  actor: Person | null;
}

/** A request as its own view shows it (fragment RequestDetail). */
export interface RequestDetail extends RequestSummary {
  answers: Record<string, unknown> | string;
  project: { id: string; name: string } | null;
  participants: Person[];
  expectedDocuments: ExpectedDocument[];
  messages: RequestMessage[];
  history: HistoryEntry[];
  type: RequestSummary["type"] & { form: FormDefinition | string };
  customer: RequestSummary["customer"] & {
    accountTeam: Person[];
    contacts: Connection<Person>;
  };
}

export function answersOf(request: RequestDetail): Record<string, unknown> {
  return typeof request.answers === "string"
    ? (JSON.parse(request.answers) as Record<string, unknown>)
    : (request.answers ?? {});
}

/** The links at the top: contacts' own requests; staff's queue. */
export function requestsHome(ctx: AppContext): { href: string; label: string } {
  return isStaff(ctx.user) ? { href: link("queue", "mine"), label: "Request queue" } : { href: link("requests"), label: "My requests" };
}

function minutes(count: number): string {
  const hours = Math.floor(Math.abs(count) / 60);
  const rest = Math.abs(count) % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** The clock that matters now: the first answer until it is given, then the resolution. */
function currentClock(sla: RequestSla): { clock: SlaClock; what: "answer" | "resolution" } | null {
  if (sla.firstResponse && !sla.firstResponse.metAt) return { clock: sla.firstResponse, what: "answer" };
  if (sla.resolution && !sla.resolution.metAt) return { clock: sla.resolution, what: "resolution" };
  return null;
}

/** What the SLA says to the reader, in a sentence; `kind` for its colour. */
export function slaText(request: Pick<RequestSummary, "sla" | "closed" | "status">, staff: boolean): {
  text: string;
  kind: "ok" | "paused" | "breached" | "done";
} {
  if (request.closed || request.status === "RESOLVED" || request.status === "WITHDRAWN" || request.status === "REJECTED") {
    return { text: "Closed", kind: "done" };
  }
  const current = currentClock(request.sla);
  if (request.sla.paused || request.status === "NEEDS_INFO") {
    return {
      text: staff
        ? "Clock paused: waiting for the customer"
        : "Clock paused: waiting for your information",
      kind: "paused",
    };
  }
  if (!current) return { text: "No answer time set", kind: "ok" };
  const { clock, what } = current;
  const noun = what === "answer" ? "First answer" : "Resolution";
  if (clock.breached) {
    const late = clock.remainingMinutes !== null ? ` (${minutes(clock.remainingMinutes)} of business time over)` : "";
    return { text: `${noun} overdue${late}`, kind: "breached" };
  }
  if (clock.breachesAt) return { text: `${noun} expected by ${absoluteTime(clock.breachesAt)}`, kind: "ok" };
  if (clock.remainingMinutes !== null) return { text: `${noun} expected within ${minutes(clock.remainingMinutes)} of business time`, kind: "ok" };
  return { text: "No answer time set", kind: "ok" };
}

export function slaLine(request: Pick<RequestSummary, "sla" | "closed" | "status">, staff: boolean): HTMLElement {
  const { text, kind } = slaText(request, staff);
  return h("span", { class: `sla sla-${kind}`, "data-sla": kind }, text);
}

/** The size of a file for people: "12 KB", "3.4 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.ceil(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function attachmentLinks(files: AttachmentFile[]): HTMLElement | null {
  if (files.length === 0) return null;
  return h(
    "ul",
    { class: "files" },
    files.map((file) =>
      h(
        "li",
        {},
        file.downloadUrl ? h("a", { href: file.downloadUrl, download: file.name }, file.name) : file.name,
        h("small", { class: "muted" }, ` ${fileSize(file.size)}`),
      ),
    ),
  );
}

/** Upload a file for a request (before submitting it, or to an open one) with
 * `POST /requests/attachments?name=…` (staff: `&customerId=…`): its attachment, whose ID
 * goes into `attachmentIds` (and an attachments field's answer). */
export async function uploadFile(ctx: AppContext, file: File, customerId: string | null = null): Promise<AttachmentFile> {
  // staff upload for a customer's request; a contact for their own customer
  const forCustomer = customerId && isStaff(ctx.user) ? `&customerId=${encodeURIComponent(customerId)}` : "";
  const url = `/requests/attachments?name=${encodeURIComponent(file.name)}${forCustomer}`;
  return ctx.session.upload<AttachmentFile>(url, file, "attachment");
}

/** The problems of a refused submission: by field (`extensions.field`), and the rest. */
export function fieldProblems(error: unknown): { byField: Map<string, string[]>; other: string[] } {
  const byField = new Map<string, string[]>();
  const other: string[] = [];
  if (!(error instanceof GraphQLRequestError)) return { byField, other };
  for (const problem of error.errors) {
    const field = problem.extensions?.field;
    if (typeof field === "string" && field) {
      const key = field.replace(/^answers\./, "");
      byField.set(key, [...(byField.get(key) ?? []), problem.message]);
    } else other.push(problem.message);
  }
  return { byField, other };
}

/** Where a field's error is shown: a paragraph after its control, tied to it. */
export class FieldError {
  readonly element: HTMLElement;

  constructor(
    readonly id: string,
    private readonly controls: () => HTMLElement[],
  ) {
    this.element = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  }

  show(messages: string[]): void {
    replaceChildren(this.element, messages.join(" "));
    this.element.hidden = messages.length === 0;
    for (const control of this.controls()) {
      const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter((part) => part && part !== this.element.id);
      if (messages.length > 0) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", [this.element.id, ...described].join(" "));
      } else {
        control.removeAttribute("aria-invalid");
        if (described.length) control.setAttribute("aria-describedby", described.join(" "));
        else control.removeAttribute("aria-describedby");
      }
    }
  }

  clear(): void {
    this.show([]);
  }
}

/** "Quantity: this answer is required." (the server's messages name their field already). */
function labelled(label: string, message: string): string {
  return !label || message.startsWith(label) ? message : `${label}: ${message}`;
}

/** The list of a form's problems above it, each a link that puts focus on its field; it is
 * focused so that screen readers read it, and the reader finds the fields from there. */
export function errorSummary(problems: { label: string; message: string; target: HTMLElement | null }[]): HTMLElement {
  const heading = h(
    "h2",
    { tabindex: -1 },
    problems.length === 1 ? "There is a problem" : `There are ${problems.length} problems`,
  );
  const box = h(
    "div",
    { class: "error-summary", role: "alert", "data-testid": "error-summary" },
    heading,
    h(
      "ul",
      {},
      problems.map((problem) =>
        h(
          "li",
          {},
          problem.target
            ? h(
                "a",
                {
                  href: `#${problem.target.id}`,
                  onclick: (event: Event) => {
                    // the router listens to the hash: move focus, not the address
                    event.preventDefault();
                    focusOn(problem.target);
                    problem.target?.scrollIntoView({ block: "center" });
                  },
                },
                labelled(problem.label, problem.message),
              )
            : labelled(problem.label, problem.message),
        ),
      ),
    ),
  );
  return box;
}
