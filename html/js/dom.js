// SPDX-License-Identifier: MIT
// dom.js: building elements without HTML strings. Text always goes in as
// text nodes, so user-provided names and e-mails can never become markup.

/*
 * el('button', { class: 'btn', type: 'button', on: { click: fn } }, 'Text', child, ...)
 *
 * attrs: `class`, `on` (event listeners), `dataset`, the properties `value`, `checked`,
 * `disabled`, `selected`, `hidden` (set as properties), anything else as an attribute
 * (null, undefined and false leave it out). Children: strings and numbers become text nodes,
 * nodes are appended, arrays are flattened, null / undefined / false are skipped.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);

function setAttrs(node, attrs) {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
    } else if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    } else if (name === 'class') {
      node.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (PROPS.has(name)) {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

export function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
  return node;
}

/* Replaces node's children with children (same rules as el). */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

const SVG = 'http://www.w3.org/2000/svg';

/* Small line icons (24x24, stroke), built as SVG nodes from constant path data. */
const ICONS = {
  orgs: ['M3 21h18', 'M5 21V7l7-4 7 4v14', 'M9 9h.01M15 9h.01M9 13h.01M15 13h.01M10 21v-4h4v4'],
  projects: ['M3 7l9-4 9 4-9 4-9-4z', 'M3 12l9 4 9-4', 'M3 17l9 4 9-4'],
  billing: ['M3 6h18v12H3z', 'M3 10h18', 'M7 15h3'],
  members: ['M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z',
    'M22 21v-2a4 4 0 0 0-3-3.9', 'M16 3.1a4 4 0 0 1 0 7.8'],
  events: ['M12 8v4l3 2', 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z'],
  settings: ['M4 6h10', 'M18 6h2', 'M4 12h4', 'M12 12h8', 'M4 18h12', 'M20 18h0',
    'M16 4v4', 'M10 10v4', 'M18 16v4'],
  chevron: ['M6 9l6 6 6-6'],
  check: ['M5 12l5 5 9-10'],
  dot: ['M12 12h.01'],
  alert: ['M12 9v4', 'M12 17h.01', 'M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z'],
  info: ['M12 16v-4', 'M12 8h.01', 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z'],
  mail: ['M3 5h18v14H3z', 'M3 7l9 6 9-6'],
  external: ['M14 4h6v6', 'M20 4l-9 9', 'M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5'],
};

export function icon(name, cls) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', cls ? `icon ${cls}` : 'icon');
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

/* The mpbind mark: two linked squares. */
export function logo() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'logo-mark');
  const parts = [
    ['rect', { x: '1', y: '1', width: '30', height: '30', rx: '8', class: 'logo-bg' }],
    ['rect', { x: '7', y: '7', width: '11', height: '11', rx: '3', class: 'logo-a' }],
    ['rect', { x: '14', y: '14', width: '11', height: '11', rx: '3', class: 'logo-b' }],
  ];
  for (const [tag, attrs] of parts) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.appendChild(node);
  }
  return svg;
}
