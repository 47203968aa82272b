// Unsaved work: forms with text the user typed register here, and whatever would throw that
// text away (going to another view through the hash router, Back, reload or closing the tab,
// a Cancel button, signing out) asks first.
//
//   const release = keepUnsaved(() => textarea.value.trim() !== "");  // while the form is open
//   ...
//   if (!confirmDiscard(textarea.value.trim() !== "")) return;         // on Cancel / Escape
//   release();                                                         // once saved or closed
//
// The router (main.ts) calls `confirmLeaving()` before it changes the view; the browser's own
// "leave this page?" prompt covers reload and closing the tab. A view's `destroy()` should
// release what it registered; `releaseAll()` forgets everything (signed out, session ended).

/** Says whether leaving now would lose text the user typed. */
export type IsDirty = () => boolean;

const sources = new Set<IsDirty>();

/** Keep `isDirty` in mind until the returned function is called (call it once the form is
 * saved, cancelled or gone; calling it again does nothing). */
export function keepUnsaved(isDirty: IsDirty): () => void {
  sources.add(isDirty);
  return () => {
    sources.delete(isDirty);
  };
}

/** Whether any registered form holds unsaved text now. */
export function hasUnsavedWork(): boolean {
  for (const isDirty of sources) {
    try {
      if (isDirty()) return true;
    } catch {
      // a form that is gone has nothing to lose
    }
  }
  return false;
}

const LEAVE_MESSAGE = "You have text that is not saved yet. Leave and lose it?";
const DISCARD_MESSAGE = "Discard the text you typed?";

/** Before leaving the current view: true when nothing would be lost or the user agreed (then
 * every registration is forgotten, as the view goes away); false means stay. */
export function confirmLeaving(message: string = LEAVE_MESSAGE): boolean {
  if (!hasUnsavedWork()) return true;
  if (!window.confirm(message)) return false;
  sources.clear();
  return true;
}

/** Before closing one form (Cancel, Escape): true when `dirty` is false or the user agreed. */
export function confirmDiscard(dirty: boolean, message: string = DISCARD_MESSAGE): boolean {
  return !dirty || window.confirm(message);
}

/** Forget every registration (signed out, session ended). */
export function releaseAll(): void {
  sources.clear();
}

window.addEventListener("beforeunload", (event) => {
  if (!hasUnsavedWork()) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers show their prompt only with returnValue set
});
