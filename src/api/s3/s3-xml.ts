/**
 * XML in and out, with fast-xml-parser. Documents are built from plain objects; arrays become
 * repeated elements. Request bodies are validated first (MalformedXML), then parsed with every value
 * kept as the exact string sent (no trimming, no number parsing: a key "0012 " stays "0012 ").
 */
import { XMLBuilder, XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';
import { malformedXml } from './s3-errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value of an XML document: text, nested elements, or repeated elements. */
export type XmlValue = string | number | boolean | XmlElement | XmlValue[] | undefined;
export interface XmlElement {
  [name: string]: XmlValue;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  // Escaping is done below, so that characters XML 1.0 cannot carry literally become references.
  processEntities: false,
  tagValueProcessor: (_name, value) => escapeText(String(value)),
  attributeValueProcessor: (_name, value) => escapeText(String(value)),
});

/** `<?xml …?><root xmlns="…">…</root>`; members whose value is undefined are left out. */
export function buildXml(root: string, content: XmlElement, namespaced = true): string {
  const document = { [root]: { ...(namespaced ? { '@_xmlns': S3_XMLNS } : {}), ...dropUndefined(content) } };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document)}`;
}

function dropUndefined(element: XmlElement): XmlElement {
  const out: XmlElement = {};
  for (const [name, value] of Object.entries(element)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value)
      ? value.map((item) => (isElement(item) ? dropUndefined(item) : item))
      : isElement(value)
        ? dropUndefined(value)
        : value;
  }
  return out;
}

const isElement = (value: XmlValue): value is XmlElement =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Escapes markup characters; characters XML 1.0 does not allow literally become numeric references. */
function escapeText(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** XML's five predefined entities and numeric character references; nothing else (no DTDs). */
const xmlEntityDecoder: EntityDecoderOptions = {
  setExternalEntities: () => undefined,
  addInputEntities: () => undefined,
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: (text) =>
    text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, name: string) => {
      if (name.startsWith('#')) {
        const codePoint = name[1] === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole;
      }
      return PREDEFINED_ENTITIES[name] ?? whole;
    }),
};
const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Parses a request document whose root must be `root`. Elements named in `repeated` always parse
 * as arrays. Throws MalformedXML for anything that is not well-formed, has a DOCTYPE, or has
 * another root.
 */
export function parseXml(text: string, root: string, repeated: readonly string[] = []): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text)) throw malformedXml('document type declarations are not accepted');
  const validation = XMLValidator.validate(text);
  if (validation !== true) throw malformedXml(validation.err.msg);
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    processEntities: true,
    entityDecoder: xmlEntityDecoder,
    isArray: (name) => repeated.includes(name),
  });
  const document = parser.parse(text) as Record<string, unknown>;
  const names = Object.keys(document);
  if (names.length !== 1 || names[0] !== root) throw malformedXml(`the root element must be <${root}>`);
  const content = document[root];
  // <Root/> or whitespace-only content parses as a string: no child elements.
  return typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {};
}

/** The text of a child element, or undefined (an element with children is not text). */
export function textOf(element: Record<string, unknown>, name: string): string | undefined {
  const value = element[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return '';
  throw malformedXml(`<${name}> must hold text`);
}

/** Child elements named `name` (declared as repeated when parsing). */
export function elementsOf(element: Record<string, unknown>, name: string): Array<Record<string, unknown>> {
  const value = element[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformedXml(`<${name}> was expected to repeat`);
  return value.map((item) => {
    if (typeof item === 'object' && item !== null) return item as Record<string, unknown>;
    if (typeof item === 'string') return {};
    throw malformedXml(`<${name}> must hold elements`);
  });
}
