/** A few DOM helpers: the UI is plain TypeScript and DOM, no view library. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** An element with attributes (`on*` are listeners, `false`/`undefined` are left out) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces a node's children. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

let fields = 0;

/**
 * A labelled control: the label names it for assistive technology and tests. The label is tied by
 * `for`, not wrapped around the control, so a select's name is the label alone, not its value too.
 */
export function field(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLDivElement {
  input.id ||= `field-${++fields}`;
  return el('div', { class: 'field' }, el('label', { for: input.id }, label), input);
}

/** Announces a line in the page's live status region. */
export function announce(text: string): void {
  const status = document.getElementById('status');
  if (status) status.textContent = text;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let keyHandler: ((e: KeyboardEvent) => void) | undefined;
let leaving: Array<() => void> = [];

/**
 * The current screen's keyboard shortcuts (one screen's at a time; undefined: none). Keys typed into a form control
 * are left to it, and so is Enter on a link or button, which activates it.
 */
export function onKeys(handler: ((e: KeyboardEvent) => void) | undefined): void {
  keyHandler = handler;
}

/** Work to stop when the user leaves the current screen (polling). */
export function onLeave(stop: () => void): void {
  leaving.push(stop);
}

/** Called by the router before it draws another screen. */
export function leaveScreen(): void {
  for (const stop of leaving) stop();
  leaving = [];
  keyHandler = undefined;
}

document.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement | null;
  if (target?.closest('input, select, textarea') || (e.key === 'Enter' && target?.closest('a, button')) || !keyHandler) return;
  keyHandler(e);
});
