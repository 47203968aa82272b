// What the library views share: the shapes of the library documents in clients/operations/,
// state and type names and badges, validity as a reader says it, who may change which
// library, uploading a version's file, and following `libraryEvents` live.

import LIBRARY_EVENTS from "../../operations/LibraryEvents.graphql";
import { isStaff, type AppContext } from "./app";
import { absoluteTime, h } from "./dom";
import type { Handlers, LiveSubscription } from "./live";

export type DocumentState = "DRAFT" | "VALID" | "EXPIRED" | "SUPERSEDED";
export type DocumentType = "CERTIFICATE" | "CONTRACT" | "MANUAL" | "PROCEDURE" | "PRICE_LIST" | "TERMS" | "TRAINING" | "OTHER";

export const DOCUMENT_STATES: DocumentState[] = ["DRAFT", "VALID", "EXPIRED", "SUPERSEDED"];

const STATE_LABELS: Record<DocumentState, string> = {
  DRAFT: "Draft",
  VALID: "Valid",
  EXPIRED: "Expired",
  SUPERSEDED: "Superseded",
};

export const TYPE_LABELS: Record<DocumentType, string> = {
  CERTIFICATE: "Certificate",
  CONTRACT: "Contract",
  MANUAL: "Manual",
  PROCEDURE: "Procedure",
  PRICE_LIST: "Price list",
  TERMS: "Terms",
  TRAINING: "Training material",
  OTHER: "Other",
};

export interface Person {
  id: string;
  name: string;
}

export interface CustomerScope {
  id: string;
  name: string;
  accountTeam: { id: string }[];
}

export interface LibraryFolder {
  id: string;
  name: string;
  parentId: string | null;
  customerId: string | null;
  openToMembers: boolean;
}

export interface VersionSummary {
  id: string;
  number: number;
  label: string;
  name: string;
  size: number;
  downloadUrl: string | null;
  createdAt: string;
}

export interface LibraryDocumentSummary {
  id: string;
  title: string;
  type: DocumentType;
  state: DocumentState;
  tags: string[];
  validFrom: string | null;
  validUntil: string | null;
  requiresAcknowledgement: boolean;
  needsMyAcknowledgement: boolean;
  customerId: string | null;
  folderId: string | null;
  updatedAt: string;
  currentVersion: VersionSummary | null;
}

export interface DocumentVersion extends VersionSummary {
  note: string;
  contentType: string;
  deletedAt: string | null;
  restoredFromNumber: number | null;
  uploadedBy: Person;
}

export interface Acknowledgement {
  user: Person;
  versionNumber: number;
  at: string;
}

export interface LibraryDocumentDetail extends LibraryDocumentSummary {
  description: string;
  offeredToAll: boolean;
  createdAt: string;
  owner: Person;
  supersededBy: { id: string; title: string; state: DocumentState } | null;
  supersedes: { id: string; title: string; state: DocumentState }[];
  versions: DocumentVersion[];
  acknowledgements: Acknowledgement[];
}

export interface LibraryEventData {
  libraryEvents: {
    cursor: string;
    kind: string;
    occurredAt: string;
    actor: Person | null;
    document: { id: string; title: string } | null;
    version: { id: string; number: number } | null;
  };
}

export function stateLabel(state: string): string {
  return STATE_LABELS[state as DocumentState] ?? state;
}

export function stateBadge(state: DocumentState, testId?: string): HTMLSpanElement {
  return h(
    "span",
    { class: `status status-${state.toLowerCase()}`, "data-state": state, "data-testid": testId },
    stateLabel(state),
  );
}

export function typeLabel(type: string): string {
  return TYPE_LABELS[type as DocumentType] ?? type;
}

/** A moment as a date where it is a local midnight (how the forms set validity), else
 * with its time. */
export function moment(iso: string): string {
  const date = new Date(iso);
  if (date.getHours() === 0 && date.getMinutes() === 0) {
    return date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  }
  return absoluteTime(iso);
}

/** "Valid from 1 Dec 2026 until 1 Jan 2027", "Expired on …", "Draft: not published yet". */
export function validityText(document: Pick<LibraryDocumentSummary, "state" | "validFrom" | "validUntil">): string {
  const { state, validFrom, validUntil } = document;
  if (state === "EXPIRED" && validUntil) return `Expired on ${moment(validUntil)}`;
  if (!validFrom) return "Not published yet";
  const until = validUntil ? ` until ${moment(validUntil)}` : "";
  if (state === "DRAFT") return `To be valid from ${moment(validFrom)}${until}`;
  return `Valid from ${moment(validFrom)}${until}`;
}

/** Whether the user may change documents of the library of `customerId` (null: the shared
 * library): administrators; staff on the customer's account team, or on any account team
 * for the shared library. The server decides; this only hides what would be refused. */
export function mayManage(ctx: AppContext, customers: CustomerScope[], customerId: string | null): boolean {
  if (ctx.user.role === "ADMIN") return true;
  if (!isStaff(ctx.user)) return false;
  const mine = (customer: CustomerScope): boolean => customer.accountTeam.some((member) => member.id === ctx.user.id);
  if (customerId === null) return customers.some(mine);
  const customer = customers.find((candidate) => candidate.id === customerId);
  return customer !== undefined && mine(customer);
}

/** Folders by ID, with each one's path from the top ("Quality › Certificates"). */
export function folderPaths(folders: LibraryFolder[]): Map<string, string> {
  const byId = new Map(folders.map((folder) => [folder.id, folder]));
  const paths = new Map<string, string>();
  const pathOf = (folder: LibraryFolder, seen: Set<string>): string => {
    const known = paths.get(folder.id);
    if (known !== undefined) return known;
    const parent = folder.parentId ? byId.get(folder.parentId) : undefined;
    const path = parent && !seen.has(parent.id) ? `${pathOf(parent, new Set([...seen, folder.id]))} › ${folder.name}` : folder.name;
    paths.set(folder.id, path);
    return path;
  };
  for (const folder of folders) pathOf(folder, new Set([folder.id]));
  return paths;
}

/** Upload `file` as the document's next version (HTTP, as attachments are): its number.
 * Errors as the server gives them (BAD_USER_INPUT, FORBIDDEN, a file too large…). */
export async function uploadVersion(
  ctx: AppContext,
  documentId: string,
  file: File,
  details: { label: string; note: string },
): Promise<{ id: string; number: number }> {
  const query = new URLSearchParams({ name: file.name, label: details.label, note: details.note });
  const url = `/library/documents/${encodeURIComponent(documentId)}/versions?${query.toString()}`;
  return ctx.session.upload<{ id: string; number: number }>(url, file, "version");
}

/** Download links are good for five minutes; one older than four is renewed on click. */
const LINK_FRESH_MS = 4 * 60_000;

/** A link to download a version (its `downloadUrl`, made for this reader alone). */
export function downloadLink(version: VersionSummary & { downloadUrl: string }, label?: string): HTMLAnchorElement {
  return h(
    "a",
    { href: version.downloadUrl, download: version.name, "data-version-id": version.id, "data-issued": Date.now(), "aria-label": label },
    `Download ${version.name}`,
  );
}

/** Clicks on download links in `container` that are about to expire fetch fresh ones
 * first (`reload` shows them) and follow the new link of the same version. */
export function renewDownloads(container: HTMLElement, reload: () => Promise<void>): void {
  container.addEventListener("click", (event) => {
    const anchor = (event.target as Element | null)?.closest<HTMLAnchorElement>("a[data-version-id]");
    if (!anchor || Date.now() - Number(anchor.dataset.issued) < LINK_FRESH_MS) return;
    event.preventDefault();
    const id = anchor.dataset.versionId ?? "";
    void reload().then(() => container.querySelector<HTMLAnchorElement>(`a[data-version-id="${CSS.escape(id)}"]`)?.click());
  });
}

/** Follow the library's events (of one customer's library, or all the user sees). */
export function followLibrary(
  ctx: AppContext,
  customerId: string | null,
  handlers: Handlers<LibraryEventData>,
): LiveSubscription<LibraryEventData> {
  return ctx.live.subscribe<LibraryEventData>(LIBRARY_EVENTS, { customerId, after: null }, {
    ...handlers,
    cursor: ({ libraryEvents: event }) => event.cursor,
  });
}
