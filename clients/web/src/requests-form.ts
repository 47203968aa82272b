// A request type's form, rendered from its definition: `schema` (JSON Schema of the answers:
// types, `required`, `enum` or `oneOf` choices, limits) and `ui` (the order of the fields and,
// per field, its kind, label, help, unit, `showIf` and prefill). Fields shown only when
// another field has a given value appear and disappear as that value changes (announced),
// and what is hidden is not sent. Files of an attachments field are uploaded as they are
// chosen; their IDs are the answer.
//
//   const form = new RequestForm(ctx, definition, prefill);
//   container.append(form.element);
//   form.answers();               // { field: value } of the fields shown and filled in
//   form.showErrors(byField);      // messages next to their fields; the fields' labels
//   form.isDirty();                // anything typed or chosen beyond the prefill

import type { AppContext } from "./app";
import { describe } from "./app";
import { announce, h, replaceChildren } from "./dom";
import {
  FieldError,
  fileSize,
  uploadFile,
  type AttachmentFile,
  type FieldHints,
  type FormDefinition,
  type JsonSchema,
} from "./requests";
import { limitText, POST_MAX_LENGTH, stripped } from "./text";

type Kind =
  | "shortText"
  | "longText"
  | "number"
  | "date"
  | "singleChoice"
  | "multipleChoice"
  | "checkbox"
  | "attachments";

interface Choice {
  value: string;
  label: string;
}

interface Field {
  name: string;
  kind: Kind;
  label: string;
  required: boolean;
  hints: FieldHints;
  schema: JsonSchema;
  wrapper: HTMLElement;
  /** The control that takes focus for this field (the first of a group). */
  focusTarget: HTMLElement;
  error: FieldError;
  read(): unknown;
  write(value: unknown): void;
  initial: string;
}

let forms = 0;

function kindOf(name: string, hints: FieldHints | undefined, schema: JsonSchema): Kind {
  const given = hints?.kind as Kind | undefined;
  if (given) return given;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "boolean") return "checkbox";
  if (type === "number" || type === "integer") return "number";
  if (type === "array") return schema.items?.enum || schema.items?.oneOf ? "multipleChoice" : "attachments";
  if (schema.enum || schema.oneOf) return "singleChoice";
  if (schema.format === "date") return "date";
  return name ? "shortText" : "shortText";
}

function choicesOf(schema: JsonSchema, hints: FieldHints | undefined): Choice[] {
  const given = hints?.options;
  if (Array.isArray(given)) {
    return given.map((option) =>
      typeof option === "object" && option !== null
        ? {
            value: String((option as { value?: unknown }).value ?? ""),
            label: String((option as { label?: unknown }).label ?? (option as { value?: unknown }).value ?? ""),
          }
        : { value: String(option), label: String(option) },
    );
  }
  if (given && typeof given === "object") {
    return Object.entries(given as Record<string, unknown>).map(([value, label]) => ({ value, label: String(label) }));
  }
  const source = schema.items ?? schema;
  const list = source.oneOf ?? source.anyOf;
  if (list) {
    return list
      .filter((option) => option.const !== undefined)
      .map((option) => ({ value: String(option.const), label: option.title ?? String(option.const) }));
  }
  return (source.enum ?? []).filter((value) => value !== null).map((value) => ({ value: String(value), label: String(value) }));
}

/** Whether `value` (a field's answer) matches `equals` (a showIf condition). */
function matches(value: unknown, equals: unknown): boolean {
  if (Array.isArray(value)) return Array.isArray(equals) ? JSON.stringify(value) === JSON.stringify(equals) : value.map(String).includes(String(equals));
  if (value === undefined || value === null) return equals === null || equals === false;
  if (typeof equals === "boolean") return value === equals;
  return String(value) === String(equals);
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

function withoutLabel(label: string, message: string): string {
  if (!message.startsWith(`${label}: `)) return message;
  const rest = message.slice(label.length + 2);
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

export class RequestForm {
  readonly element: HTMLElement;
  readonly fields = new Map<string, Field>();
  private readonly uploads = new Set<Promise<unknown>>();
  private readonly id = ++forms;

  constructor(
    private readonly ctx: AppContext,
    definition: FormDefinition,
    prefill: Record<string, unknown> = {},
  ) {
    const properties = definition.schema.properties ?? {};
    const required = new Set(definition.schema.required ?? []);
    const hints = definition.ui.fields ?? {};
    const order = [
      ...(definition.ui.order ?? []),
      ...Object.keys(properties).filter((name) => !(definition.ui.order ?? []).includes(name)),
    ].filter((name, index, all) => all.indexOf(name) === index && (properties[name] || hints[name]));
    this.element = h("div", { class: "request-fields" });
    for (const name of order) {
      const schema = properties[name] ?? {};
      const fieldHints = hints[name] ?? { kind: kindOf(name, undefined, schema) };
      const field = this.build(name, schema, fieldHints, required.has(name));
      const start = prefill[name] ?? (fieldHints.prefill !== undefined && typeof fieldHints.prefill !== "string" ? fieldHints.prefill : schema.default);
      if (start !== undefined && start !== null) field.write(start);
      field.initial = JSON.stringify(field.read() ?? null);
      this.fields.set(name, field);
      this.element.append(field.wrapper);
    }
    this.element.addEventListener("change", () => this.applyConditions(true));
    this.element.addEventListener("input", () => this.applyConditions(true));
    this.applyConditions(false);
  }

  /** The answers of the fields that are shown and filled in. */
  answers(): Record<string, unknown> {
    const answers: Record<string, unknown> = {};
    for (const field of this.fields.values()) {
      if (field.wrapper.hidden) continue;
      const value = field.read();
      if (!isEmpty(value) && !(field.kind === "checkbox" && value === false && !field.required)) answers[field.name] = value;
      else if (field.kind === "checkbox" && value === false) answers[field.name] = false;
    }
    return answers;
  }

  /** The attachment IDs of every attachments field shown. */
  attachmentIds(): string[] {
    const ids: string[] = [];
    for (const field of this.fields.values()) {
      if (field.kind !== "attachments" || field.wrapper.hidden) continue;
      ids.push(...((field.read() as string[] | null) ?? []));
    }
    return ids;
  }

  /** Wait for files still being uploaded. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.uploads]);
  }

  isDirty(): boolean {
    for (const field of this.fields.values()) {
      if (JSON.stringify(field.read() ?? null) !== field.initial) return true;
    }
    return false;
  }

  /** Show each field's messages beside it (and clear the others); returns, in the form's
   * order, the problems that belong to a field of this form. */
  showErrors(byField: Map<string, string[]>): { label: string; message: string; target: HTMLElement }[] {
    const shown: { label: string; message: string; target: HTMLElement }[] = [];
    for (const field of this.fields.values()) {
      const messages = byField.get(field.name) ?? [];
      // beside the field its label is right there: "Quantity: this answer is required." reads
      // "This answer is required."
      field.error.show(messages.map((message) => withoutLabel(field.label, message)));
      for (const message of messages) shown.push({ label: field.label, message, target: field.focusTarget });
    }
    return shown;
  }

  clearErrors(): void {
    for (const field of this.fields.values()) field.error.clear();
  }

  private applyConditions(announceChanges: boolean): void {
    // a field hidden by its condition hides the fields that depend on it in turn
    const changed: string[] = [];
    for (let pass = 0; pass < this.fields.size + 1; pass += 1) {
      let moved = false;
      for (const field of this.fields.values()) {
        const condition = field.hints.showIf;
        if (!condition?.field) continue;
        const source = this.fields.get(condition.field);
        const visible = source !== undefined && !source.wrapper.hidden && matches(source.read(), condition.equals);
        if (field.wrapper.hidden === !visible) continue;
        field.wrapper.hidden = !visible;
        moved = true;
        changed.push(visible ? `${field.label} is shown` : `${field.label} is hidden`);
      }
      if (!moved) break;
    }
    if (announceChanges && changed.length) announce(`${changed.join(". ")}.`);
  }

  private build(name: string, schema: JsonSchema, hints: FieldHints, required: boolean): Field {
    const kind = kindOf(name, hints, schema);
    const label = hints.label ?? schema.title ?? name;
    const id = `request-${this.id}-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    const labelText = [label, required ? h("span", { class: "required" }, " (required)") : null];
    const help = hints.help ?? schema.description;
    const helpElement = help ? h("small", { id: `${id}-help`, class: "help" }, help) : null;
    const describedBy = (extra: string | null = null): string | null =>
      [helpElement ? helpElement.id : null, extra].filter(Boolean).join(" ") || null;
    const wrapper = h("div", { class: `field request-field kind-${kind}`, "data-field": name });
    let controls: HTMLElement[] = [];
    let focusTarget: HTMLElement;
    let read: () => unknown;
    let write: (value: unknown) => void;

    switch (kind) {
      case "longText": {
        const text = h("textarea", { id, name, rows: 5, "aria-required": required ? "true" : null, "aria-describedby": describedBy() });
        const max = schema.maxLength ?? POST_MAX_LENGTH;
        const counter = limitText(text, max);
        wrapper.append(h("label", { class: "field-label", for: id }, ...labelText), helpElement ?? "", text, counter);
        controls = [text];
        focusTarget = text;
        read = () => (stripped(text.value) === "" ? null : stripped(text.value));
        write = (value) => {
          text.value = String(value ?? "");
          text.dispatchEvent(new Event("input"));
        };
        break;
      }
      case "number": {
        const input = h("input", {
          id,
          name,
          type: "text",
          inputmode: schema.type === "integer" ? "numeric" : "decimal",
          autocomplete: "off",
          "aria-required": required ? "true" : null,
          "aria-describedby": describedBy(hints.unit ? `${id}-unit` : null),
        });
        const unit = hints.unit ? h("span", { class: "unit", id: `${id}-unit` }, hints.unit) : null;
        wrapper.append(
          h("label", { class: "field-label", for: id }, ...labelText),
          helpElement ?? "",
          h("div", { class: "with-unit" }, input, unit),
        );
        controls = [input];
        focusTarget = input;
        read = () => {
          const raw = input.value.trim().replace(/\s/g, "").replace(",", ".");
          if (raw === "") return null;
          const value = Number(raw);
          return Number.isFinite(value) ? value : input.value.trim(); // the server says what is wrong
        };
        write = (value) => {
          input.value = value === null || value === undefined ? "" : String(value);
        };
        break;
      }
      case "date": {
        const input = h("input", { id, name, type: "date", "aria-required": required ? "true" : null, "aria-describedby": describedBy() });
        wrapper.append(h("label", { class: "field-label", for: id }, ...labelText), helpElement ?? "", input);
        controls = [input];
        focusTarget = input;
        read = () => input.value || null;
        write = (value) => {
          input.value = String(value ?? "").slice(0, 10);
        };
        break;
      }
      case "checkbox": {
        const input = h("input", { id, name, type: "checkbox", "aria-required": required ? "true" : null, "aria-describedby": describedBy() });
        wrapper.append(h("div", { class: "check" }, input, h("label", { for: id }, ...labelText)), helpElement ?? "");
        controls = [input];
        focusTarget = input;
        read = () => input.checked;
        write = (value) => {
          input.checked = value === true || value === "true";
        };
        break;
      }
      case "singleChoice":
      case "multipleChoice": {
        const choices = choicesOf(schema, hints);
        const multiple = kind === "multipleChoice";
        if (!multiple && choices.length > 6) {
          const select = h(
            "select",
            { id, name, "aria-required": required ? "true" : null, "aria-describedby": describedBy() },
            h("option", { value: "" }, "Choose…"),
            choices.map((choice) => h("option", { value: choice.value }, choice.label)),
          );
          wrapper.append(h("label", { class: "field-label", for: id }, ...labelText), helpElement ?? "", select);
          controls = [select];
          focusTarget = select;
          read = () => (select.value === "" ? null : this.typed(schema, select.value));
          write = (value) => {
            select.value = value === null || value === undefined ? "" : String(value);
          };
          break;
        }
        const inputs = choices.map((choice, index) =>
          h("input", {
            type: multiple ? "checkbox" : "radio",
            id: `${id}-${index}`,
            name: multiple ? `${name}-${index}` : id,
            value: choice.value,
          }),
        );
        const legendId = `${id}-legend`;
        const group = h(
          "fieldset",
          {
            id,
            class: "choices",
            role: multiple ? "group" : "radiogroup",
            "aria-labelledby": legendId,
            "aria-required": !multiple && required ? "true" : null,
            "aria-describedby": describedBy(),
          },
          h("legend", { id: legendId, class: "field-label" }, ...labelText),
          helpElement ?? "",
          choices.map((choice, index) =>
            h("div", { class: "check" }, inputs[index]!, h("label", { for: `${id}-${index}` }, choice.label)),
          ),
        );
        if (helpElement) group.insertBefore(helpElement, group.children[1] ?? null);
        wrapper.append(group);
        controls = [group];
        focusTarget = inputs[0] ?? group;
        read = () => {
          const chosen = inputs.filter((input) => input.checked).map((input) => this.typed(schema.items ?? schema, input.value));
          return multiple ? chosen : (chosen[0] ?? null);
        };
        write = (value) => {
          const wanted = (Array.isArray(value) ? value : [value]).map(String);
          for (const input of inputs) input.checked = wanted.includes(input.value);
        };
        break;
      }
      case "attachments": {
        const files: AttachmentFile[] = [];
        const input = h("input", {
          id,
          name,
          type: "file",
          multiple: schema.maxItems === 1 ? null : true,
          "aria-required": required ? "true" : null,
          "aria-describedby": describedBy(`${id}-files`),
        });
        const list = h("ul", { class: "files", id: `${id}-files`, "aria-live": "polite" });
        const status = h("p", { class: "upload-status", role: "status" });
        const show = (): void => {
          replaceChildren(
            list,
            files.map((file) =>
              h(
                "li",
                {},
                file.name,
                h("small", { class: "muted" }, ` ${fileSize(file.size)} `),
                h(
                  "button",
                  {
                    type: "button",
                    class: "link",
                    "aria-label": `Remove ${file.name}`,
                    onclick: () => {
                      files.splice(files.indexOf(file), 1);
                      show();
                      announce(`${file.name} removed.`);
                      input.focus();
                    },
                  },
                  "Remove",
                ),
              ),
            ),
          );
        };
        input.addEventListener("change", () => {
          const chosen = [...(input.files ?? [])];
          input.value = "";
          for (const file of chosen) {
            replaceChildren(status, `Uploading ${file.name}…`);
            const upload = uploadFile(this.ctx, file)
              .then((attachment) => {
                files.push(attachment);
                show();
                replaceChildren(status, `${file.name} uploaded.`);
                this.element.dispatchEvent(new Event("change"));
              })
              .catch((error: unknown) => {
                replaceChildren(status, h("span", { class: "field-error" }, `${file.name} was not uploaded: ${describe(error)}`));
              })
              .finally(() => this.uploads.delete(upload));
            this.uploads.add(upload);
          }
        });
        wrapper.append(h("label", { class: "field-label", for: id }, ...labelText), helpElement ?? "", input, status, list);
        controls = [input];
        focusTarget = input;
        read = () => files.map((file) => file.id);
        write = () => {};
        break;
      }
      default: {
        const input = h("input", {
          id,
          name,
          type: schema.format === "email" ? "email" : "text",
          autocomplete: "off",
          "aria-required": required ? "true" : null,
          "aria-describedby": describedBy(),
        });
        const counter = schema.maxLength ? limitText(input, schema.maxLength) : null;
        wrapper.append(h("label", { class: "field-label", for: id }, ...labelText), helpElement ?? "", input, counter ?? "");
        controls = [input];
        focusTarget = input;
        read = () => (stripped(input.value) === "" ? null : stripped(input.value));
        write = (value) => {
          input.value = String(value ?? "");
          input.dispatchEvent(new Event("input"));
        };
      }
    }
    const error = new FieldError(id, () => controls);
    wrapper.append(error.element);
    // typing or choosing again clears that field's error
    const clear = (): void => {
      if (!error.element.hidden) error.clear();
    };
    wrapper.addEventListener("input", clear);
    wrapper.addEventListener("change", clear);
    return { name, kind, label, required, hints, schema, wrapper, focusTarget, error, read, write, initial: "null" };
  }

  /** A choice's value in the type its schema gives (numbers stay numbers). */
  private typed(schema: JsonSchema, value: string): unknown {
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
    if (type === "number" || type === "integer") return Number(value);
    if (type === "boolean") return value === "true";
    const source = schema.oneOf ?? schema.anyOf;
    const exact = source?.find((option) => String(option.const) === value)?.const ?? schema.enum?.find((option) => String(option) === value);
    return exact ?? value;
  }
}
