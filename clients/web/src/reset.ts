// A forgotten password, signed out: ask for a link (#/forgot-password), then set a new
// password from the mailed link (#/reset-password/TOKEN). The answer to the request is the
// same whether or not the address has an account.

import { describe } from "./app";
import { field, h, notice, replaceChildren } from "./dom";
import type { Session } from "./session";

/** A signed-out form: one submission at a time, what went wrong read out, and focus back
 * on the field to correct. */
function form(
  label: string,
  button: string,
  controls: HTMLElement[],
  retype: HTMLInputElement,
  submit: () => Promise<void>,
): HTMLFormElement {
  const feedback = h("div");
  const go = h("button", { type: "submit" }, button);
  return h(
    "form",
    {
      class: "login-form",
      "aria-label": label,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        // not `disabled`: a disabled button drops the focus it has
        if (go.getAttribute("aria-disabled") === "true") return;
        go.setAttribute("aria-disabled", "true");
        replaceChildren(feedback);
        try {
          await submit();
        } catch (error) {
          replaceChildren(feedback, notice("error", describe(error)));
          retype.focus();
          retype.select();
        } finally {
          go.removeAttribute("aria-disabled");
        }
      },
    },
    ...controls,
    go,
    feedback,
  );
}

function page(root: HTMLElement, title: string, lede: string, ...content: HTMLElement[]): void {
  document.title = `${title} – Extranet`;
  replaceChildren(
    root,
    h("main", { class: "login" }, h("h1", {}, title), h("p", { class: "lede" }, lede), ...content),
  );
}

/** Ask for a link to set a new password (#/forgot-password). */
export function forgotPasswordView(root: HTMLElement, session: Session): void {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const area = h("div");
  page(
    root,
    "Forgot your password?",
    "Give the email address you sign in with: we mail you a link to choose a new password.",
    area,
    h("p", {}, h("a", { href: "#/" }, "Back to sign in")),
  );
  replaceChildren(
    area,
    form("Ask for a new password", "Mail me a link", [field("Email", email)], email, async () => {
      const address = email.value.trim();
      await session.requestPasswordReset(address);
      const sent = notice(
        "success",
        `If ${address} has an account, a link to choose a new password is on its way. It works once, within 30 minutes. Nothing arrived? Check the spam folder, or ask again.`,
      );
      sent.tabIndex = -1;
      replaceChildren(area, sent);
      sent.focus();
    }),
  );
  email.focus();
}

/** Choose a new password with the token of a mailed link (#/reset-password/TOKEN); `done`
 * runs with the account's address once it is set. */
export function resetPasswordView(root: HTMLElement, session: Session, token: string, done: (email: string) => void): void {
  const password = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true });
  page(
    root,
    "Choose a new password",
    "You are signed out everywhere once it is set; then sign in with it.",
    form(
      "Choose a new password",
      "Set my password",
      [field("New password", password, "A long passphrase: at least 12 characters.")],
      password,
      async () => {
        const email = await session.resetPassword(token, password.value);
        history.replaceState(history.state, "", "#/"); // the token is spent: not in the history
        done(email);
      },
    ),
    h("p", {}, h("a", { href: "#/forgot-password" }, "Ask for a new link"), " · ", h("a", { href: "#/" }, "Back to sign in")),
  );
  password.focus();
}
