// Building the DOM safely: every string goes in as a text node or an attribute value, never
// as markup. The one exception is `serverHtml`, for the server's sanitised `bodyHtml`.

type Child = Node | string | number | null | undefined | false;
type Handler = (event: Event) => void;
type Attributes = Record<string, string | number | boolean | Handler | null | undefined>;

/** `h("button", { type: "button", onclick: go }, "Go")`: an element with attributes,
 * event handlers (`on…`) and children; strings become text nodes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** An element holding HTML that the server rendered from Markdown and sanitised (`bodyHtml`,
 * `descriptionHtml`). Nothing else may go through here. */
export function serverHtml(className: string, html: string): HTMLDivElement {
  const element = h("div", { class: className });
  element.innerHTML = html;
  for (const link of element.querySelectorAll("a[href]")) {
    link.setAttribute("rel", "nofollow noopener noreferrer ugc");
    if (!link.getAttribute("href")?.startsWith("#")) link.setAttribute("target", "_blank");
  }
  return element;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const shortDate = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "numeric", minute: "2-digit" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

/** The absolute date and time, as the reader's locale writes it ("12 May 2026, 14:05"). */
export function absoluteTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

/** A short date and time for accessible names ("12 May, 14:05"). */
export function shortTime(iso: string): string {
  return shortDate.format(new Date(iso));
}

/** "5 minutes ago", "yesterday", "just now", for a moment relative to now. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = (new Date(iso).getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

/** `<time datetime=…>` saying how long ago, with the absolute date and time in its title. */
export function time(iso: string): HTMLTimeElement {
  return h("time", { datetime: iso, title: absoluteTime(iso), "data-relative": "" }, relativeTime(iso));
}

// relative times move on while the page is open
window.setInterval(() => {
  const now = Date.now();
  for (const element of document.querySelectorAll<HTMLTimeElement>("time[data-relative]")) {
    const text = relativeTime(element.dateTime, now);
    if (element.textContent !== text) element.textContent = text;
  }
}, 30_000);

const MENTION = /(^|[^\w@/])@([a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?)(?![\w-]|\.\w)/giu;
const TOPIC = /(^|[^\p{L}\p{M}\p{N}\p{Pc}#&/])#(\p{L}[\p{L}\p{M}\p{N}\p{Pc}-]*)/gu;

function topicKey(word: string): string {
  return word.replace(/-+$/, "").normalize("NFC").toLowerCase().normalize("NFC");
}

/** Make the @mentions and #topics in server-rendered post HTML links: `people` maps a
 * lower-case handle to where its person is shown, `topics` a normalised topic name to its
 * link. Only handles and topics the server found become links; code, pre and existing
 * links are left alone. */
export function linkReferences(
  element: HTMLElement,
  people: Map<string, string>,
  topics: Map<string, string>,
): void {
  if (people.size === 0 && topics.size === 0) return;
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement?.closest("code, pre, a") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  const texts: Text[] = [];
  while (walker.nextNode()) texts.push(walker.currentNode as Text);
  for (const node of texts) {
    const value = node.data;
    const found: { start: number; end: number; href: string; label: string; kind: string }[] = [];
    for (const match of value.matchAll(MENTION)) {
      const href = people.get(match[2]!.toLowerCase());
      const start = match.index! + match[1]!.length;
      if (href) found.push({ start, end: start + 1 + match[2]!.length, href, label: `@${match[2]}`, kind: "mention" });
    }
    for (const match of value.matchAll(TOPIC)) {
      const word = match[2]!.replace(/-+$/, "");
      const href = topics.get(topicKey(word));
      const start = match.index! + match[1]!.length;
      if (href) found.push({ start, end: start + 1 + word.length, href, label: `#${word}`, kind: "topic" });
    }
    if (found.length === 0) continue;
    found.sort((a, b) => a.start - b.start);
    const parts: Node[] = [];
    let at = 0;
    for (const hit of found) {
      if (hit.start < at) continue;
      parts.push(document.createTextNode(value.slice(at, hit.start)));
      parts.push(h("a", { href: hit.href, class: hit.kind }, hit.label));
      at = hit.end;
    }
    parts.push(document.createTextNode(value.slice(at)));
    node.replaceWith(...parts);
  }
}

/** Move focus to `element` (made focusable by script if it is not), e.g. a new post or a
 * notice, so keyboard and screen-reader users land on the result of what they did. */
export function focusOn(element: HTMLElement | null | undefined): void {
  if (!element) return;
  if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) element.tabIndex = -1;
  element.focus();
}

/** Rebuild `panel` and give focus back to the control that had it (found again by its
 * data-action; the panel itself if it is gone), so a live update leaves the reader in place. */
export function keepFocus(panel: HTMLElement, rebuild: () => void): void {
  const active = document.activeElement as HTMLElement | null;
  const action = active && panel.contains(active) ? (active.dataset.action ?? "") : null;
  rebuild();
  if (action === null) return;
  focusOn(action ? (panel.querySelector<HTMLElement>(`[data-action="${CSS.escape(action)}"]`) ?? panel) : panel);
}

const STATUS_LABELS: Record<string, string> = {
  PROPOSED: "Proposed",
  ACTIVE: "Active",
  ON_HOLD: "On hold",
  COMPLETED: "Completed",
  CANCELLED: "Cancelled",
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

export function statusBadge(status: string): HTMLSpanElement {
  return h(
    "span",
    { class: `status status-${status.toLowerCase()}`, "data-status": status },
    statusLabel(status),
  );
}

/** A message in a live region, so screen readers announce it. */
export function notice(kind: "info" | "success" | "error", ...text: (Child | Child[])[]) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...text);
}

let fields = 0;

/** A labelled control; the hint is tied to it with aria-describedby. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const id = control.id || `field-${++fields}`;
  control.id = id;
  const hintElement = hint ? h("small", { id: `${id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { class: "field-label", for: id }, label), control, hintElement);
}

/** Tell screen readers about something that changed elsewhere on the screen. */
export function announce(text: string): void {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
