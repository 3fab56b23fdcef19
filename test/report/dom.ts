/** A small DOM of the report's own output, parsed with a strict XML parser (the page is written as well-formed XML). */
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';

export interface El { name: string; attributes: Record<string, string>; text: string; children: El[] }

/** Parses `xml` (the whole page or one SVG); any error (bad escape, unclosed tag, forbidden character) throws. */
export function parseXml(xml: string): El {
  const parser = new SaxesParser();
  const stack: El[] = [];
  let root: El | null = null;
  parser.on('error', (e) => { throw e; });
  parser.on('opentag', (t) => {
    const el: El = { name: t.name, attributes: t.attributes as Record<string, string>, text: '', children: [] };
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('text', (s) => { if (stack.length > 0) stack[stack.length - 1].text += s; });
  parser.on('closetag', () => { stack.pop(); });
  parser.write(xml).close();
  assert.ok(root, 'no root element');
  return root;
}

export function hasClass(el: El, cls: string): boolean {
  return (el.attributes.class ?? '').split(/\s+/).includes(cls);
}

/** Every element below `el` (itself included) that passes `pred`, in document order. */
export function findAll(el: El, pred: (e: El) => boolean): El[] {
  const out: El[] = [];
  const walk = (e: El) => {
    if (pred(e)) out.push(e);
    for (const c of e.children) walk(c);
  };
  walk(el);
  return out;
}

/** Elements named `name` (if given) carrying every class in `classes`. */
export function select(el: El, name: string | null, ...classes: string[]): El[] {
  return findAll(el, (e) => (name === null || e.name === name) && classes.every((c) => hasClass(e, c)));
}

/** The one element that matches; fails unless exactly one does. */
export function one(el: El, name: string | null, ...classes: string[]): El {
  const found = select(el, name, ...classes);
  assert.equal(found.length, 1, `expected one ${name ?? '*'}.${classes.join('.')}, found ${found.length}`);
  return found[0];
}

/** The text of an element and all below it. */
export function textOf(el: El): string {
  return el.text + el.children.map(textOf).join('');
}

export function num(el: El, attr: string): number {
  const v = el.attributes[attr];
  assert.ok(v !== undefined, `${el.name} has no ${attr}`);
  return Number(v);
}
