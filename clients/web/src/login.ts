// Signing in: email and password; then, for accounts with two-factor sign-in, a code
// (MFA_REQUIRED + completeLogin); where an administrator requires it and the account has
// none yet, setting it up first (MFA_ENROLMENT_REQUIRED + enrollTotp/confirmTotp).

import { describe } from "./app";
import { field, h, notice, replaceChildren } from "./dom";
import { GraphQLRequestError, type Session } from "./session";

function extension(error: unknown, code: string, key: string): string | null {
  if (!(error instanceof GraphQLRequestError)) return null;
  const value = error.errors.find((e) => e.extensions?.code === code)?.extensions?.[key];
  return typeof value === "string" ? value : null;
}

/** The sign-in form; `signedIn` runs once the session holds tokens. */
export function loginView(root: HTMLElement, session: Session, signedIn: () => void, message?: string): void {
  const area = h("div");
  document.title = "Sign in – Extranet";
  replaceChildren(
    root,
    h(
      "main",
      { class: "login" },
      h("h1", {}, "Extranet"),
      h("p", { class: "lede" }, "Project timelines, concept pages and status with your provider, in one place."),
      area,
    ),
  );
  passwordStep(message);

  /** A form whose submit handler shows what went wrong and enables the button again. */
  function step(label: string, button: string, controls: HTMLElement[], submit: () => Promise<void>): HTMLFormElement {
    const feedback = h("div");
    const go = h("button", { type: "submit" }, button);
    const form = h(
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
            // focus on what to correct (the password or code, typed again), the notice read out
            const retype = [...form.querySelectorAll("input")].pop();
            retype?.focus();
            retype?.select();
          } finally {
            go.removeAttribute("aria-disabled");
          }
        },
      },
      ...controls,
      go,
      feedback,
    );
    return form;
  }

  function codeInput(name: string): HTMLInputElement {
    return h("input", { type: "text", name, autocomplete: "one-time-code", required: true, spellcheck: "false" });
  }

  function passwordStep(info?: string): void {
    document.title = "Sign in – Extranet";
    const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    replaceChildren(
      area,
      info ? notice("info", info) : null,
      step("Sign in", "Sign in", [field("Email", email), field("Password", password)], async () => {
        try {
          await session.login(email.value.trim(), password.value);
        } catch (error) {
          const mfaToken = extension(error, "MFA_REQUIRED", "mfaToken");
          if (mfaToken) return codeStep(mfaToken);
          const enrolmentToken = extension(error, "MFA_ENROLMENT_REQUIRED", "enrolmentToken");
          if (enrolmentToken) return enrolStep(enrolmentToken);
          password.select();
          throw error;
        }
        signedIn();
      }),
      h("p", { class: "login-help" }, h("a", { href: "#/forgot-password" }, "Forgot your password?")),
    );
    email.focus();
  }

  function codeStep(mfaToken: string): void {
    document.title = "Sign in: second step – Extranet";
    const code = codeInput("code");
    replaceChildren(
      area,
      step(
        "Second step",
        "Continue",
        [field("Code from your authenticator app", code, "Or one of your recovery codes.")],
        async () => {
          await session.completeLogin(mfaToken, code.value.trim());
          signedIn();
        },
      ),
      h("p", {}, h("button", { type: "button", class: "link", onclick: () => passwordStep() }, "Start again")),
    );
    code.focus();
  }

  async function enrolStep(enrolmentToken: string): Promise<void> {
    const { secret, provisioningUri } = await session.enrol(enrolmentToken);
    document.title = "Set up two-factor sign-in – Extranet";
    const code = codeInput("code");
    replaceChildren(
      area,
      notice("info", "Your administrator requires two-factor sign-in for your account. Set it up once now."),
      h(
        "ol",
        { class: "steps" },
        h(
          "li",
          {},
          "Add an account to your authenticator app with this key: ",
          h("code", { class: "secret", "data-testid": "totp-secret" }, secret),
          h("details", {}, h("summary", {}, "The key as an otpauth link"), h("code", { class: "secret" }, provisioningUri)),
        ),
        h("li", {}, "Type the code the app shows."),
      ),
      step("Set up two-factor sign-in", "Turn it on and sign in", [field("Code from your authenticator app", code)], async () => {
        const recoveryCodes = await session.confirmEnrolment(enrolmentToken, code.value.trim());
        recoveryStep(recoveryCodes);
      }),
    );
    code.focus();
  }

  function recoveryStep(codes: string[]): void {
    document.title = "Your recovery codes – Extranet";
    const next = h("button", { type: "button", onclick: () => signedIn() }, "I have kept them: continue");
    replaceChildren(
      area,
      notice("success", "Two-factor sign-in is on."),
      h(
        "section",
        { class: "login-form", "aria-labelledby": "recovery-heading" },
        h("h2", { id: "recovery-heading" }, "Your recovery codes"),
        h("p", {}, "Each signs you in once when your app is not at hand. They are shown only now: keep them somewhere safe."),
        h("ul", { class: "recovery-codes", "data-testid": "recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
        next,
      ),
    );
    next.focus();
  }
}

/** Accepting an invitation (#/invitation/TOKEN): choose a password, and be signed in. */
export function invitationView(root: HTMLElement, session: Session, token: string, signedIn: () => void): void {
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true });
  const feedback = h("div");
  const go = h("button", { type: "submit" }, "Create my account");
  let busy = false;
  replaceChildren(
    root,
    h(
      "main",
      { class: "login" },
      h("h1", {}, "Accept your invitation"),
      h("p", { class: "lede" }, "Choose a password for your new account; you sign in with it and your email address from now on."),
      h(
        "form",
        {
          class: "login-form",
          "aria-label": "Accept your invitation",
          onsubmit: async (event: Event) => {
            event.preventDefault();
            if (busy) return;
            busy = true;
            replaceChildren(feedback);
            try {
              await session.acceptInvitation(token, password.value);
              history.replaceState(history.state, "", "#/"); // the token is spent: not in the history
              signedIn();
            } catch (error) {
              replaceChildren(feedback, notice("error", describe(error)));
              password.focus();
            } finally {
              busy = false;
            }
          },
        },
        field("New password", password, "A long passphrase: at least 12 characters."),
        go,
        feedback,
      ),
      h("p", {}, h("a", { href: "#/" }, "I have an account: sign in")),
    ),
  );
  document.title = "Accept your invitation – Extranet";
  password.focus();
}
