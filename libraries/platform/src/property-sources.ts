import YAML from 'yaml';

/** A flattened map of dotted keys, as Spring Cloud Config serves it. */
export type FlatProperties = Record<string, string | number | boolean | null>;

export interface PropertySource {
  name: string;
  source: FlatProperties;
}

export interface Environment {
  name: string;
  profiles: string[];
  label: string;
  version: string | null;
  propertySources: PropertySource[];
}

/** A YAML document that starts with `on-profile: <name>` applies only to that profile. */
const PROFILE_KEY = 'on-profile';

export function flatten(value: unknown, prefix = '', out: FlatProperties = {}): FlatProperties {
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${prefix}[${i}]`, out));
    if (value.length === 0 && prefix) out[prefix] = null;
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out[prefix] = value as FlatProperties[string];
  }
  return out;
}

/**
 * Keys that reach an object's prototype when assigned (`a.__proto__.x = 1` pollutes every object
 * of the process). Config text is data: a key naming one of them is refused, never written.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function ownKey(key: string | number, where: string): string | number {
  if (typeof key === 'string' && PROTOTYPE_KEYS.has(key)) throw new Error(`config key ${where}: "${key}" is not allowed in a key`);
  return key;
}

export function unflatten(flat: FlatProperties): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flat)) {
    const parts = path.split(/\.|(?=\[)/).map((p) => ownKey(p.startsWith('[') ? Number(p.slice(1, -1)) : p, path));
    let node: any = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        node[part] = value;
      } else {
        node[part] ??= typeof parts[i + 1] === 'number' ? [] : {};
        node = node[part];
      }
    });
  }
  return root;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep merge where later wins; lists are replaced whole, as in Spring's binding. */
export function deepMerge<T extends Record<string, unknown>>(...layers: Array<Record<string, unknown> | undefined>): T {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      // JSON.parse (APP_CONFIG_JSON) keeps "__proto__" as an own key: assigning it would set the prototype.
      out[ownKey(key, key) as string] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
    }
  }
  return out as T;
}

/**
 * The property sources of one application and profile, highest precedence first, in Spring's
 * order: the application's file before application.yml, a profile document before the default one.
 * `read` returns a file's text or undefined when the file does not exist.
 */
export function resolvePropertySources(application: string, profiles: string[], read: (file: string) => string | undefined, describe: (file: string) => string): PropertySource[] {
  const sources: PropertySource[] = [];
  const files = application === 'application' ? ['application.yml'] : [`${application}.yml`, 'application.yml'];
  for (const file of files) {
    const text = read(file);
    if (text === undefined) continue;
    const docs = YAML.parseAllDocuments(text).map((d) => (d.toJS() ?? {}) as Record<string, unknown>);
    for (const profile of [...profiles].reverse()) {
      docs.forEach((doc, i) => {
        if (doc[PROFILE_KEY] !== profile) return;
        const { [PROFILE_KEY]: _, ...rest } = doc;
        sources.push({ name: `${describe(file)} (document #${i}, profile ${profile})`, source: flatten(rest) });
      });
    }
    docs.forEach((doc, i) => {
      if (doc[PROFILE_KEY] === undefined) sources.push({ name: `${describe(file)} (document #${i})`, source: flatten(doc) });
    });
  }
  return sources;
}

/** Collapses property sources (highest precedence first) into one nested object. */
export function composeSources(sources: PropertySource[]): Record<string, unknown> {
  return deepMerge(...[...sources].reverse().map((s) => unflatten(s.source)));
}
