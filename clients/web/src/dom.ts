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

export function time(iso: string): HTMLTimeElement {
  return h("time", { datetime: iso }, dateTime.format(new Date(iso)));
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
