// The signed-in person's account (#/account): profile (name, time zone, language), which
// notifications reach them by mail, their password, and two-factor sign-in.

import ACCOUNT from "../../operations/Account.graphql";
import CHANGE_PASSWORD from "../../operations/ChangePassword.graphql";
import CONFIRM_TOTP from "../../operations/ConfirmTotp.graphql";
import DISABLE_TOTP from "../../operations/DisableTotp.graphql";
import ENROLL_TOTP from "../../operations/EnrollTotp.graphql";
import REGENERATE_RECOVERY_CODES from "../../operations/RegenerateRecoveryCodes.graphql";
import SET_MAIL_PREFERENCES from "../../operations/SetMailPreferences.graphql";
import UPDATE_MY_PROFILE from "../../operations/UpdateMyProfile.graphql";
import { describe, failure, setTitle, type AppContext, type View } from "./app";
import { field, focusOn, h, notice, replaceChildren } from "./dom";

type Delivery = "IMMEDIATE" | "DAILY" | "WEEKLY" | "OFF";

interface CategoryPreference {
  category: string;
  delivery: Delivery;
  windowMinutes: number;
  digestHour: number;
  digestWeekday: number;
}

interface AccountData {
  me: { id: string; name: string; email: string | null; timeZone: string | null; locale: string | null; mfaEnabled: boolean | null };
  mailPreferences: { categories: CategoryPreference[] };
}

const CATEGORY_LABELS: Record<string, string> = {
  MENTIONS_AND_REPLIES: "Mentions and replies",
  WATCHED: "Projects and pages you watch",
  REQUESTS: "Requests",
  ACCOUNT: "Your account",
};

const DELIVERY_LABELS: Record<Delivery, string> = {
  IMMEDIATE: "Soon, in one mail for what you have not seen",
  DAILY: "A daily digest",
  WEEKLY: "A weekly digest",
  OFF: "No mail",
};

function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

export function accountView(ctx: AppContext, main: HTMLElement): View {
  let destroyed = false;
  setTitle("Your account");
  replaceChildren(main, h("p", { class: "muted" }, "Loading…"));

  async function load(): Promise<void> {
    let data: AccountData;
    try {
      data = await ctx.session.request<AccountData>(ACCOUNT);
    } catch (error) {
      if (destroyed) return;
      replaceChildren(main, h("h1", { tabindex: -1 }, "Your account"), failure(error, () => void load()));
      focusOn(main.querySelector<HTMLElement>(".retry") ?? main.querySelector("h1"));
      return;
    }
    if (destroyed) return;
    replaceChildren(
      main,
      h("h1", { tabindex: -1 }, "Your account"),
      h("p", { class: "lede" }, `You sign in as ${data.me.email ?? ""}.`),
      profileSection(data),
      mailSection(data),
      passwordSection(),
      twoFactorSection(data),
    );
    main.querySelector("h1")?.focus();
  }

  /** A section with a heading and a form that says how its submission went. */
  function section(id: string, title: string, ...content: (HTMLElement | null)[]): HTMLElement {
    return h("section", { class: "panel account-section", "aria-labelledby": id }, h("h2", { id }, title), ...content);
  }

  function form(
    label: string,
    button: string,
    controls: HTMLElement[],
    submit: (feedback: HTMLElement) => Promise<void>,
  ): HTMLFormElement {
    const feedback = h("div");
    const go = h("button", { type: "submit" }, button);
    const element = h(
      "form",
      {
        class: "account-form",
        "aria-label": label,
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (go.getAttribute("aria-disabled") === "true") return;
          go.setAttribute("aria-disabled", "true");
          replaceChildren(feedback);
          try {
            await submit(feedback);
          } catch (error) {
            replaceChildren(feedback, notice("error", describe(error)));
            const named = fieldOf(error);
            const retry = (named && element.querySelector<HTMLInputElement>(`[name="${named}"]`)) || element.querySelector("input");
            retry?.focus();
          } finally {
            go.removeAttribute("aria-disabled");
          }
        },
      },
      ...controls,
      go,
      feedback,
    );
    return element;
  }

  function fieldOf(error: unknown): string | null {
    const errors = (error as { errors?: { extensions?: { field?: unknown } }[] }).errors;
    const value = errors?.[0]?.extensions?.field;
    return typeof value === "string" ? value : null;
  }

  function done(feedback: HTMLElement, text: string): void {
    replaceChildren(feedback, notice("success", text));
  }

  function profileSection(data: AccountData): HTMLElement {
    const name = h("input", { type: "text", name: "displayName", value: data.me.name, required: true, autocomplete: "name" });
    const zones = timeZones();
    const zoneList = h("datalist", { id: "time-zones" }, zones.map((zone) => h("option", { value: zone })));
    const zone = h("input", { type: "text", name: "timeZone", value: data.me.timeZone ?? "UTC", list: "time-zones", autocomplete: "off", spellcheck: "false" });
    const locale = h("input", { type: "text", name: "locale", value: data.me.locale ?? "en", autocomplete: "off", spellcheck: "false" });
    return section(
      "profile-heading",
      "Profile",
      form(
        "Profile",
        "Save profile",
        [
          field("Display name", name, "The name others see."),
          field("Time zone", zone, "Such as Europe/Zurich: mail digests and quiet hours follow it."),
          zoneList,
          field("Language", locale, "A language tag such as en, de-CH or fr."),
        ],
        async (feedback) => {
          const answer = await ctx.session.request<{ updateMyProfile: { user: { name: string; timeZone: string; locale: string } } }>(
            UPDATE_MY_PROFILE,
            { displayName: name.value, timeZone: zone.value.trim(), locale: locale.value.trim() },
          );
          const user = answer.updateMyProfile.user;
          name.value = user.name;
          zone.value = user.timeZone;
          locale.value = user.locale;
          done(feedback, "Your profile is saved.");
        },
      ),
    );
  }

  function mailSection(data: AccountData): HTMLElement {
    const choices = data.mailPreferences.categories.map((preference) => {
      const select = h(
        "select",
        { name: `mail-${preference.category}` },
        (Object.keys(DELIVERY_LABELS) as Delivery[]).map((delivery) =>
          h("option", { value: delivery, selected: delivery === preference.delivery }, DELIVERY_LABELS[delivery]),
        ),
      );
      return { preference, select };
    });
    return section(
      "mail-heading",
      "Mail",
      h("p", {}, "What reaches you by mail when you are not looking at the extranet; what you read here first is never mailed."),
      form(
        "Mail preferences",
        "Save mail preferences",
        choices.map(({ preference, select }) => field(CATEGORY_LABELS[preference.category] ?? preference.category, select)),
        async (feedback) => {
          const categories = choices.map(({ preference, select }) => ({
            category: preference.category,
            delivery: select.value,
            windowMinutes: preference.windowMinutes,
            digestHour: preference.digestHour,
            digestWeekday: preference.digestWeekday,
          }));
          await ctx.session.request(SET_MAIL_PREFERENCES, { categories });
          done(feedback, "Your mail preferences are saved.");
        },
      ),
    );
  }

  function passwordSection(): HTMLElement {
    const current = h("input", { type: "password", name: "currentPassword", autocomplete: "current-password", required: true });
    const next = h("input", { type: "password", name: "newPassword", autocomplete: "new-password", required: true });
    return section(
      "password-heading",
      "Password",
      form(
        "Change your password",
        "Change password",
        [field("Current password", current), field("New password", next, "A long passphrase: at least 12 characters.")],
        async (feedback) => {
          const answer = await ctx.session.request<{ changePassword: { otherSessionsEnded: number } }>(CHANGE_PASSWORD, {
            currentPassword: current.value,
            newPassword: next.value,
          });
          current.value = "";
          next.value = "";
          const ended = answer.changePassword.otherSessionsEnded;
          done(
            feedback,
            ended === 1
              ? "Your password is changed. Your other session was signed out."
              : ended
                ? `Your password is changed. Your ${ended} other sessions were signed out.`
                : "Your password is changed.",
          );
        },
      ),
    );
  }

  function twoFactorSection(data: AccountData): HTMLElement {
    const area = h("div");
    const element = section("two-factor-heading", "Two-factor sign-in", area);
    if (data.me.mfaEnabled) showOn();
    else showOff();
    return element;

    function recoveryCodes(codes: string[]): HTMLElement {
      return h(
        "div",
        {},
        h("p", {}, "Your recovery codes: each signs you in once when your app is not at hand. They are shown only now: keep them somewhere safe."),
        h("ul", { class: "recovery-codes", "data-testid": "recovery-codes" }, codes.map((c) => h("li", {}, h("code", {}, c)))),
      );
    }

    function showOff(message?: HTMLElement): void {
      const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
      replaceChildren(
        area,
        message ?? null,
        h("p", {}, "Off: your password alone signs you in. With it on, signing in also asks for a code from an authenticator app."),
        form("Set up two-factor sign-in", "Set up", [field("Your password", password)], async () => {
          const answer = await ctx.session.request<{ enrollTotp: { secret: string; provisioningUri: string } }>(ENROLL_TOTP, {
            password: password.value,
          });
          showEnrolment(answer.enrollTotp.secret, answer.enrollTotp.provisioningUri);
        }),
      );
    }

    function showEnrolment(secret: string, uri: string): void {
      const code = h("input", { type: "text", name: "code", autocomplete: "one-time-code", inputmode: "numeric", required: true, spellcheck: "false" });
      replaceChildren(
        area,
        h(
          "ol",
          { class: "steps" },
          h(
            "li",
            {},
            "Add an account to your authenticator app with this key: ",
            h("code", { class: "secret", "data-testid": "totp-secret" }, secret),
            h("details", {}, h("summary", {}, "The key as an otpauth link"), h("code", { class: "secret" }, uri)),
          ),
          h("li", {}, "Type the code the app shows."),
        ),
        form("Confirm two-factor sign-in", "Turn it on", [field("Code from your authenticator app", code)], async () => {
          const answer = await ctx.session.request<{ confirmTotp: { recoveryCodes: string[] } }>(CONFIRM_TOTP, {
            code: code.value.trim(),
          });
          showOn(notice("success", "Two-factor sign-in is on."), answer.confirmTotp.recoveryCodes);
        }),
      );
      code.focus();
    }

    function showOn(message?: HTMLElement, codes?: string[]): void {
      const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
      const code = h("input", { type: "text", name: "code", autocomplete: "one-time-code", required: true, spellcheck: "false" });
      const action = h(
        "select",
        { name: "action" },
        h("option", { value: "codes" }, "New recovery codes (the old ones stop working)"),
        h("option", { value: "off" }, "Turn two-factor sign-in off"),
      );
      replaceChildren(
        area,
        message ?? null,
        codes ? recoveryCodes(codes) : null,
        h("p", {}, "On: signing in asks for a code from your authenticator app, or a recovery code."),
        form(
          "Change two-factor sign-in",
          "Go on",
          [
            field("What to do", action),
            field("Your password", password),
            field("Code from your authenticator app", code, "Or one of your recovery codes."),
          ],
          async () => {
            const variables = { password: password.value, code: code.value.trim() };
            if (action.value === "off") {
              await ctx.session.request(DISABLE_TOTP, variables);
              showOff(notice("success", "Two-factor sign-in is off."));
              focusOn(area.querySelector<HTMLElement>(".notice"));
              return;
            }
            const answer = await ctx.session.request<{ regenerateRecoveryCodes: { recoveryCodes: string[] } }>(
              REGENERATE_RECOVERY_CODES,
              variables,
            );
            showOn(notice("success", "Your new recovery codes are ready."), answer.regenerateRecoveryCodes.recoveryCodes);
            focusOn(area.querySelector<HTMLElement>(".notice"));
          },
        ),
      );
      if (message) focusOn(message);
    }
  }

  void load();
  return {
    destroy() {
      destroyed = true;
    },
  };
}
