// Text limits as the server counts them: in code points (Python's len) of the text with its
// surrounding white space stripped, not in UTF-16 units as the browser's maxlength does (an
// emoji is one character, not two).
//
//   const body = h("textarea", { name: "body" });
//   const counter = limitText(body, POST_MAX_LENGTH);   // "4,990 characters left" under it
//   field("New post", body, hint); form.append(counter);
//   ...after setting body.value by script: body.dispatchEvent(new Event("input"))

import { h } from "./dom";

/** Posts, replies and comments: at most this many characters (server: MICROPOST_MAX_LENGTH). */
export const POST_MAX_LENGTH = 5_000;
/** A page's body (server: PAGE_MAX_LENGTH). */
export const PAGE_MAX_LENGTH = 200_000;
/** Names and titles (server: TITLE_MAX_LENGTH, NAME_MAX_LENGTH). */
export const TITLE_MAX_LENGTH = 200;
/** A page change's summary (server: SUMMARY_MAX_LENGTH). */
export const SUMMARY_MAX_LENGTH = 500;
/** The reason given for a project's change of status (server: REASON_MAX_LENGTH). */
export const REASON_MAX_LENGTH = 2_000;

// the characters Python's str.strip() takes away at either end (str.isspace)
const SPACE = "\\t\\n\\v\\f\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const EDGES = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, "gu");

/** The text as the server keeps it: surrounding white space stripped. */
export function stripped(text: string): string {
  return text.replace(EDGES, "");
}

/** How many characters the server counts in `text`: code points, after stripping. */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of stripped(text)) count += 1;
  return count;
}

const numbers = new Intl.NumberFormat();
let limited = 0;

/** A live counter for `control` (a textarea or input) and its validity: over `max` code
 * points the control is invalid (the form's submit is refused with the browser's message),
 * and the counter says by how much. The counter is tied to the control with
 * aria-describedby (kept beside an existing hint); screen readers hear it when they reach
 * the control, not on every key. Returns the counter element to put after the control. */
export function limitText(control: HTMLTextAreaElement | HTMLInputElement, max: number): HTMLElement {
  control.removeAttribute("maxlength"); // counts UTF-16 units: an emoji would count twice
  if (!control.id) control.id = `text-${++limited}`;
  const counter = h("small", { class: "counter muted", id: `${control.id}-count` });
  const described = control.getAttribute("aria-describedby");
  control.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
  const update = (): void => {
    const used = countCharacters(control.value);
    const left = max - used;
    counter.textContent =
      left >= 0
        ? `${numbers.format(left)} of ${numbers.format(max)} characters left`
        : `${numbers.format(-left)} characters too many (at most ${numbers.format(max)})`;
    counter.classList.toggle("over", left < 0);
    control.setCustomValidity(left < 0 ? `At most ${numbers.format(max)} characters, please: ${numbers.format(-left)} too many.` : "");
  };
  control.addEventListener("input", update);
  update();
  return counter;
}
