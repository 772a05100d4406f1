/** The few DOM helpers the page's panels share. */

/** The element with this id; the page's HTML has it, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (!element) throw new Error(`the page has no #${id}`)
  return element as T
}

interface Props {
  class?: string
  /** Text content; a missing protobuf string (null, undefined) shows as empty. */
  text?: string | null | undefined
  testid?: string
  title?: string | null | undefined
}

/** A new element with a class, text and `data-testid`, and its children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props.class) element.className = props.class
  if (props.text !== undefined) element.textContent = props.text ?? ''
  if (props.testid) element.dataset.testid = props.testid
  if (props.title) element.title = props.title
  element.append(...children)
  return element
}

/** Sets text only when it changed, so an unchanged push does not touch the layout. */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text
}

/** Sets a `data-*` attribute only when it changed (the CSS styles states by them). */
export function setData(element: HTMLElement, key: string, value: string): void {
  if (element.dataset[key] !== value) element.dataset[key] = value
}
